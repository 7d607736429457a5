"""Publishers' names: the publisher facet is one vocabulary, the id as value, the name as label.

Names come with events (RecordV1.publisher_name, DatasetV1.publisher_id with its `publisher`
name) and from the registry's GET /v1/publishers when the index is rebuilt.

Revision ID: 0005
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""CREATE TABLE search.publishers (
                      id text COLLATE "C" PRIMARY KEY,
                      name text NOT NULL)""")


def downgrade() -> None:
    op.execute("DROP TABLE search.publishers")
