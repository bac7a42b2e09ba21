"""An index of READY tasks by enqueue time: /healthz finds the oldest in one lookup.

django-tasks-db's own partial index of READY rows orders by priority first, which
serves the claim and the count but not the oldest. status leads, so that SQLite's
planner, which searches on status=, takes this index and needs no sort; run_after
makes it cover both queries, which then read no table row.
"""

from django.db import migrations

CREATE = """
CREATE INDEX queue_ready_enqueued_idx ON django_tasks_database_dbtaskresult
(status, enqueued_at, run_after) WHERE status = 'READY'
"""

DROP = "DROP INDEX IF EXISTS queue_ready_enqueued_idx"
{%- if cookiecutter.database == "mysql" %}

# MySQL and MariaDB have no partial index: theirs holds every row, READY or not.
CREATE_FULL = """
CREATE INDEX queue_ready_enqueued_idx ON django_tasks_database_dbtaskresult
(status, enqueued_at, run_after)
"""
DROP_FULL = "DROP INDEX queue_ready_enqueued_idx ON django_tasks_database_dbtaskresult"


def create(apps, schema_editor):
    partial = schema_editor.connection.features.supports_partial_indexes
    schema_editor.execute(CREATE if partial else CREATE_FULL)


def drop(apps, schema_editor):
    partial = schema_editor.connection.features.supports_partial_indexes
    schema_editor.execute(DROP if partial else DROP_FULL)
{%- endif %}


class Migration(migrations.Migration):
    dependencies = [
{%- if cookiecutter.database == "postgresql" %}
        ("queue", "0002_notify_ready"),
{%- else %}
        ("queue", "0001_initial"),
{%- endif %}
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]
{%- if cookiecutter.database == "mysql" %}

    # Outside a transaction: MySQL commits DDL at once, and Django refuses DDL inside one.
    operations = [migrations.RunPython(create, drop, atomic=False)]
{%- else %}

    operations = [migrations.RunSQL(CREATE, DROP)]
{%- endif %}
