"""Published modules: a script and its ports, in numbered versions, shared by every pipeline."""
