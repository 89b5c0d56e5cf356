"""Instruction of a file: expert opinions, private annotations, messages, documents."""
