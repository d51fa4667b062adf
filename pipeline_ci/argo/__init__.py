"""Argo Workflows support."""
