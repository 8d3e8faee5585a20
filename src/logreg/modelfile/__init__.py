"""Model files: one record type, its JSON Schema, safetensors I/O and the migrations from older formats."""
