"""pipeline-ci: CI/CD for Clarifai and Alibaba PAI pipeline projects."""

__version__ = "0.1.0"
