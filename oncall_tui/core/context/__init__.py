"""What an agent session is told: the model, one assembler for live and replay, and the renderers."""
