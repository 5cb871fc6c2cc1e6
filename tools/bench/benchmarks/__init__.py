"""One module per benchmark row (pNN_<what>.py), each exposing ``run(quick: bool) -> list[Result]``."""
