"""Chat commands, one module per command family. Every module here is imported at start
and registers its commands, buttons and renderers with ``bridge.registry``."""
