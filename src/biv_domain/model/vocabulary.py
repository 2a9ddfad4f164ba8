"""The partnership's closed vocabularies, as they are written in the exchange format."""

from __future__ import annotations

from enum import StrEnum


class Party(StrEnum):
    """A party to the agreement (part): the municipality (kommunen) or the partner (partnern)."""

    MUNICIPALITY = "municipality"
    PARTNER = "partner"


class TargetKind(StrEnum):
    """What a yearly commitment (åtagande) counts."""

    CHILDREN_PER_YEAR = "children_per_year"
    GROUPS_PER_YEAR = "groups_per_year"


class GroupKind(StrEnum):
    """A children's group (barngrupp) or a parents' group (föräldragrupp)."""

    CHILDREN = "children"
    PARENTS = "parents"


class Track(StrEnum):
    """Barn i väntan (waiting: in the asylum process) or Barn i start (starting: new residents)."""

    WAITING = "waiting"
    STARTING = "starting"


class Gender(StrEnum):
    """Gender (kön) as reported: girl and boy for children, woman and man for parents."""

    GIRL = "girl"
    BOY = "boy"
    WOMAN = "woman"
    MAN = "man"
    OTHER = "other"
    UNKNOWN = "unknown"


CHILD_GENDERS = frozenset({Gender.GIRL, Gender.BOY, Gender.OTHER, Gender.UNKNOWN})
ADULT_GENDERS = frozenset({Gender.WOMAN, Gender.MAN, Gender.OTHER, Gender.UNKNOWN})


class ResidenceStatus(StrEnum):
    """Asylum seeker (asylsökande) or residence permit (uppehållstillstånd)."""

    ASYLUM_SEEKER = "asylum_seeker"
    RESIDENCE_PERMIT = "residence_permit"
