import secrets

from django.db import migrations, models

{%- if cookiecutter.database != "mysql" %}


def unlogged_cache_table(apps, schema_editor):
    """A server database writes no WAL for the cache, and so flushes none at commit.

    UNLOGGED tables are emptied after a crash: right for a cache. SQLite has none
    (with WAL and synchronous=NORMAL it does not flush at commit either).
    """
    if schema_editor.connection.vendor != "sqlite":
        schema_editor.execute("ALTER TABLE page_cache SET UNLOGGED")
{%- endif %}


def first_generation(apps, schema_editor):
    Generation = apps.get_model("pagecache", "Generation")
    Generation.objects.using(schema_editor.connection.alias).create(
        id=1, token=secrets.token_hex(8)
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="CacheEntry",
            fields=[
                (
                    "cache_key",
                    models.CharField(max_length=255, primary_key=True, serialize=False),
                ),
                ("value", models.TextField()),
                ("expires", models.DateTimeField(db_index=True)),
            ],
            options={
                "verbose_name_plural": "cache entries",
                "db_table": "page_cache",
            },
        ),
        migrations.CreateModel(
            name="Generation",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("token", models.CharField(max_length=32)),
            ],
            options={
                "db_table": "page_cache_generation",
            },
        ),
{%- if cookiecutter.database != "mysql" %}
        migrations.RunPython(unlogged_cache_table, migrations.RunPython.noop),
{%- endif %}
        migrations.RunPython(first_generation, migrations.RunPython.noop),
    ]
