"""`make bench-durable`: what durable runs cost and what they give, measured (see __main__)."""
