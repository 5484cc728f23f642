"""The execution harness: where untrusted code runs, and nothing else.

Lives here: the ``Sandbox`` protocol and its registry (``harness.sandbox``), the
``docker`` / ``local`` / ``ray`` backends (registered through the
``oversightbench.sandboxes`` entry points, :mod:`harness.plugins`), the in-sandbox
runner and codec, jobs and outcomes (:mod:`harness.jobs`), the one re-run mechanism for
unstable outcomes (:func:`harness.executor.confirm_calls`), the execution cache and the
offline image build.

May import: no other package of the project. Imported by every other package.
"""
