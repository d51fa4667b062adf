"""Clarifai Pipelines over the gRPC API: client (``api``), upload, run adapter (``run``), id resolution (``target``),
compute get-or-create (``compute``), credentials from the Clarifai CLI contexts (``contexts``) and status codes
(``status``). Nothing is imported here: clarifai-grpc is an optional extra."""
