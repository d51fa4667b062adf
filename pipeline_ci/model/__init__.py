"""Project models that are not tied to one platform package.

What lint and the commands load, one type per kind of lint target, each with only its own fields:

- the Clarifai pipeline project: :mod:`pipeline_ci.project` (:class:`~pipeline_ci.project.Project`,
  :func:`~pipeline_ci.project.load_project`);
- a PAI pipeline manifest: :mod:`pipeline_ci.platforms.pai.manifest` (:class:`~pipeline_ci.platforms.pai.manifest.Manifest`,
  :func:`~pipeline_ci.platforms.pai.manifest.load_manifest`);
- a run overrides file found in a Clarifai project: :mod:`.overrides` (:class:`~.overrides.OverridesFile`).

None of these modules imports another's: the loading helpers they share live in :mod:`pipeline_ci.yamldoc`
and :mod:`pipeline_ci.discovery`.
"""
