"""The rules: the pure deciders and projections, given/when/then and as properties."""
