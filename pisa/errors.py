"""Named failures of the pipeline, so callers and logs can say what went wrong in words."""


class PisaError(Exception):
    """Base class of the pipeline's own errors."""


class SourceUnavailable(PisaError):
    """A source database cannot be reached or answered with an error we cannot act on."""


class SchemaMismatch(PisaError):
    """A source's `responses` table lacks a column the sync needs."""


class CentralUnavailable(PisaError):
    """The central database cannot be reached."""


class LeaseHeld(PisaError):
    """Another runner holds the sync lease of this source."""


class LeaseLost(PisaError):
    """A runner tried to write a source without holding its sync lease."""
