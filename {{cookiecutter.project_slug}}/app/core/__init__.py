"""Settings, logging, errors, security and the stores every layer above relies on."""
