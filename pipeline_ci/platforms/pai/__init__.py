"""Alibaba Cloud PAI Pipelines (PAIFlow, API version 2021-02-02): trigger, follow and gate pipeline runs.

Modules (see ``pai-pipelines.md`` in the shared reference):

- :mod:`.signing` — ACS3-HMAC-SHA256 request signing and verification (§4.3, pure functions);
- :mod:`.client` — :class:`~.client.PaiClient`, a retrying ``requests`` client for the run APIs (§2, §4.7, §8);
- :mod:`.status` — run status → CI outcome (§3.1);
- :mod:`.arguments` — the ``Arguments`` string of CreatePipelineRun (§6).

The emulator used by the tests lives in :mod:`pipeline_ci.testing.pai_emulator`.
"""
