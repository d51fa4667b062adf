"""Emulators of remote services (Clarifai, …) that users can start inside their own tests.

They speak the real wire protocols, so code under test talks to them exactly as it would to the
hosted service — only the address and the credentials change. :mod:`.projects` is a small lint-clean
Clarifai project to build test projects from.
"""
