"""Zero knowledge: masks that make every message of a proof simulatable (``mask``)."""
