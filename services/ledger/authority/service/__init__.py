"""Use cases of account authority: the one check every posting path calls (`checks`), and
mandates and grant links (`mandates`)."""
