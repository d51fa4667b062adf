"""Alibaba Cloud PAI Pipelines (PAIFlow, API version 2021-02-02): trigger, follow and gate pipeline runs.

Modules (public sources: Alibaba Cloud's PAIFlow API reference, one page per action such as
https://www.alibabacloud.com/help/en/pai/developer-reference/api-paiflow-2021-02-02-createpipelinerun,
and "V3 request structure and signature",
https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature):

- :mod:`.signing` — ACS3-HMAC-SHA256 request signing and verification (V3 signature, pure functions);
- :mod:`.client` — :class:`~.client.PaiClient`, a retrying ``requests`` client for the run APIs (CreatePipelineRun,
  GetPipelineRun, ListPipelineRuns, GetPipelineRunNode, ListPipelineRunNodeStatus, ListPipelineRunNodeLogs, ...);
- :mod:`.status` — run status (``GetPipelineRun.Status``) → CI outcome (our policy);
- :mod:`.arguments` — the ``Arguments`` string of CreatePipelineRun.

The emulator used by the tests lives in :mod:`pipeline_ci.testing.pai_emulator`.
"""
