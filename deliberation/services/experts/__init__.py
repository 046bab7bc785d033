"""Experts writing their own inputs: the organisers' invitations and reviews
(:mod:`.invitations`), the expert's draft and submissions (:mod:`.writing`)."""
