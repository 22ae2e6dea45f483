"""Cards: how each feature's records look as messages (idea cards, survey results, host
desk cards, notices). One module per feature; each function draws the stored state, so a
card re-drawn at any time shows what is true now. No state changes here."""
