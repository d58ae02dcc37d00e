"""A small fixed corpus for measuring retrieval.

30 short documents on distinct topics and 20 questions, each answered by one known
document and worded differently from it.
"""

from __future__ import annotations

DOCUMENTS: dict[str, str] = {
    "sourdough.md": "# Sourdough bread\nA sourdough starter is a culture of wild yeast and lactic acid bacteria kept alive by regular feeding with flour and water. The bacteria produce the sour taste; the yeast produces the gas that leavens the dough. A long, cool proof gives a more open crumb and a deeper flavour.",
    "honeybees.md": "# Honeybee colonies\nA colony has one queen, thousands of female workers and a few hundred male drones in summer. Workers change jobs as they age: cleaning cells, nursing larvae, building comb, guarding the entrance and finally foraging for nectar and pollen. Foragers share the location of flowers with the waggle dance.",
    "volcanoes.md": "# Volcanic eruptions\nMagma that is rich in silica is viscous and traps gas, so it tends to erupt explosively and throw out ash and pumice. Basaltic magma is runny, lets gas escape, and produces gentle lava flows like those of Hawaii. Pyroclastic flows, fast avalanches of hot gas and rock, are the deadliest hazard.",
    "chess.md": "# Chess openings\nThe opening aims to control the centre, develop knights and bishops quickly and castle the king to safety. The Sicilian Defence answers 1.e4 with c5 and leads to sharp, unbalanced positions. Gambits sacrifice a pawn early to gain time for development.",
    "marathon.md": "# Marathon training\nMost plans build weekly mileage gradually over sixteen to twenty weeks, with one long run each week that grows to about thirty-two kilometres. Easy runs make up most of the volume. A taper of two to three weeks before race day lets the legs recover while keeping fitness.",
    "tcp.md": "# The TCP handshake\nBefore sending data, a TCP client and server exchange three segments: SYN, SYN-ACK and ACK. The exchange agrees initial sequence numbers in both directions, so lost or reordered segments can be detected and retransmitted. Closing a connection uses FIN segments from each side.",
    "photosynthesis.md": "# Photosynthesis\nPlants capture light with chlorophyll in their chloroplasts. The light-dependent reactions split water, release oxygen and store energy in ATP and NADPH. The Calvin cycle then uses that energy to fix carbon dioxide from the air into sugars.",
    "aqueducts.md": "# Roman aqueducts\nRoman engineers carried water to cities over dozens of kilometres using gravity alone, with channels that dropped only a few centimetres per hundred metres. Most of the length ran underground; the famous arched bridges carried the channel across valleys. Water fed public fountains, baths and latrines.",
    "espresso.md": "# Espresso extraction\nEspresso forces hot water at about nine bars of pressure through finely ground, tightly packed coffee. A typical shot takes twenty-five to thirty seconds. If it runs too fast the coffee tastes sour and under-extracted; too slow and it turns bitter. Grind size is the main adjustment.",
    "tides.md": "# Tides\nTides rise and fall mainly because of the Moon's gravity, which pulls the ocean into two bulges on opposite sides of the Earth. When the Sun and Moon line up at new and full moon, their pulls add up and give spring tides with the largest range; at quarter moons the range is smaller, giving neap tides.",
    "vaccines.md": "# How vaccines work\nA vaccine shows the immune system a harmless piece or weakened form of a pathogen. B cells make antibodies against it and memory cells remain afterwards. When the real infection arrives, the memory cells respond quickly, so the disease is prevented or much milder.",
    "solar.md": "# Solar panels\nPhotovoltaic cells are made of silicon layers doped to form a junction. Sunlight frees electrons, and the junction's electric field pushes them through a circuit as direct current. An inverter converts it to alternating current for the home. Panels lose some efficiency as they heat up.",
    "coral.md": "# Coral reefs\nReef-building corals live in partnership with algae that photosynthesise inside their tissues and supply most of their food. When the water stays too warm, corals expel the algae and turn white, which is called bleaching. Reefs shelter about a quarter of all marine species.",
    "jazz.md": "# Jazz improvisation\nJazz musicians improvise melodies over the chord changes of a tune, often using scales and arpeggios that fit each chord. Many standards follow the ii-V-I progression. Players trade solos in turn while the rhythm section of piano, bass and drums keeps the form.",
    "origami.md": "# Origami\nOrigami is the Japanese art of folding a single square of paper into a figure without cutting or gluing. Basic folds include the valley fold and the mountain fold. The traditional crane starts from a square base and is a symbol of peace and long life.",
    "wine.md": "# Winemaking\nAfter harvest, grapes are crushed and yeast ferments their sugar into alcohol and carbon dioxide. Red wine ferments with the skins, which give it colour and tannin; white wine is usually pressed first. Many wines then age in oak barrels or steel tanks before bottling.",
    "blackholes.md": "# Black holes\nA black hole forms when a massive star's core collapses under its own gravity. Its boundary, the event horizon, is the distance within which nothing, not even light, can escape. Matter falling in heats up in an accretion disk and glows brightly in X-rays.",
    "passwords.md": "# Storing passwords\nServices should never store passwords in plain text. A slow, salted hash such as bcrypt, scrypt or Argon2 makes each guess expensive for an attacker who steals the database. The salt is random per user, so identical passwords produce different hashes.",
    "compost.md": "# Composting\nA compost heap needs a mix of green material rich in nitrogen, such as grass clippings and vegetable scraps, and brown material rich in carbon, such as dry leaves and cardboard. Turning the pile supplies oxygen to the microbes that break it down. Finished compost is dark and smells of earth.",
    "knitting.md": "# Knitting\nKnitting builds fabric from rows of interlocking loops made with two needles. The knit stitch and the purl stitch are the two basic stitches; alternating them makes ribbing that stretches. Casting on puts the first loops on the needle and binding off secures the last row.",
    "glaciers.md": "# Glaciers\nA glacier forms where more snow falls each winter than melts each summer, and the snow compacts into ice. Under its own weight the ice flows slowly downhill. Glaciers carve U-shaped valleys and leave moraines of rock where they melt back.",
    "sleep.md": "# Sleep cycles\nA night's sleep passes through cycles of about ninety minutes. Each cycle moves from light sleep into deep slow-wave sleep and then into REM sleep, when most vivid dreaming happens. Deep sleep dominates early in the night and REM periods grow longer towards morning.",
    "bicycle.md": "# Bicycle gears\nA bicycle's gear ratio is the number of teeth on the front chainring divided by the number on the rear cog. A low gear makes climbing hills easier but moves the bike less per pedal turn; a high gear suits fast, flat roads. The derailleur moves the chain between cogs.",
    "lighthouses.md": "# Lighthouses\nLighthouses warned ships of rocks and marked harbour entrances. The Fresnel lens, invented in 1822, used rings of glass prisms to focus a lamp into a beam visible for many miles. Each lighthouse flashes a distinct pattern so sailors can tell which one they see at night.",
    "tea.md": "# Tea processing\nGreen, oolong and black tea all come from the same plant, Camellia sinensis. The difference is oxidation: green tea is heated soon after picking to stop it, oolong is partly oxidised, and black tea is rolled and fully oxidised, which darkens the leaves and gives a stronger, malty flavour.",
    "cheese.md": "# Cheese making\nCheese begins when rennet or acid curdles milk into curds and whey. The curds are cut, drained, salted and pressed. Hard cheeses such as cheddar and parmesan are then aged for months, while bacteria and moulds develop their flavour and texture.",
    "migration.md": "# Bird migration\nMany birds fly thousands of kilometres between breeding and wintering grounds each year. They navigate using the position of the sun and stars, the Earth's magnetic field and landmarks. The Arctic tern makes the longest journey, from the Arctic to the Antarctic and back.",
    "earthquakes.md": "# Earthquakes\nEarthquakes happen when stress built up along a fault is suddenly released and the rocks slip. The energy travels as seismic waves: fast primary waves, slower secondary waves and destructive surface waves. The magnitude scale is logarithmic, so each whole number means about thirty-two times more energy.",
    "dns.md": "# DNS resolution\nWhen a browser needs the address of a domain name, it asks a recursive resolver. The resolver queries the root servers, then the top-level domain servers such as .com, then the domain's authoritative name server, and caches the answer for the record's time to live.",
    "recycling.md": "# Recycling plastics\nPlastics are sorted by resin type, identified by the number inside the recycling symbol. PET bottles (type 1) and HDPE containers (type 2) are the most widely recycled. Mixed or dirty plastic often cannot be recycled and is burned or sent to landfill instead.",
}

# (question, the document that answers it). Worded as a person would ask, not copied.
QUESTIONS: list[tuple[str, str]] = [
    ("Why does my sour loaf taste tangy and how do I get bigger holes in it?", "sourdough.md"),
    ("What jobs does a bee do as it gets older?", "honeybees.md"),
    ("What makes some volcanoes explode violently instead of oozing lava?", "volcanoes.md"),
    ("How many weeks before the race should I cut back my running?", "marathon.md"),
    ("What packets are exchanged to open a connection between client and server?", "tcp.md"),
    ("How do plants turn carbon dioxide into sugar?", "photosynthesis.md"),
    ("How did ancient Rome bring water into its cities without pumps?", "aqueducts.md"),
    ("My coffee shot is sour and runs too quickly; what should I change?", "espresso.md"),
    ("Why are some high tides bigger than others during the month?", "tides.md"),
    ("How does getting a shot protect me from catching a disease later?", "vaccines.md"),
    ("How does a rooftop panel turn sunshine into electricity?", "solar.md"),
    ("Why do reefs turn white when the sea gets hot?", "coral.md"),
    ("Why do I have more dreams in the early morning hours?", "sleep.md"),
    ("What happens to grape sugar when wine is made, and why is red wine red?", "wine.md"),
    ("Why can't light escape from a collapsed star?", "blackholes.md"),
    ("What is the safe way for a website to keep user passwords?", "passwords.md"),
    ("What should I put in a garden compost pile and why turn it?", "compost.md"),
    ("Which gear should I choose for riding up a steep hill?", "bicycle.md"),
    ("How do migrating birds find their way over long distances?", "migration.md"),
    ("What happens when I type a website name before the page loads?", "dns.md"),
]
