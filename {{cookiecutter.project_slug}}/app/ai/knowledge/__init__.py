"""Knowledge bases: documents split into chunks, embedded, stored and searched by meaning and words."""
