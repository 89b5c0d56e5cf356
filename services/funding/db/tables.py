"""Every table of the funding database in one metadata, for Alembic and the schema tests."""

from services.funding.applications import models as applications
from services.funding.committees import models as committees
from services.funding.db.base import Base
from services.funding.instruction import models as instruction
from services.funding.instruments import models as instruments
from services.funding.programmes import models as programmes
from services.funding.reports import models as reports
from services.funding.tranches import models as tranches

# Imported so that the metadata holds every concept's tables.
CONCEPT_MODELS = (programmes, applications, instruction, committees, tranches, reports, instruments)
metadata = Base.metadata
