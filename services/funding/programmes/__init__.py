"""Programmes, their yearly envelopes (AP/CP), calls for projects and local accompanists."""
