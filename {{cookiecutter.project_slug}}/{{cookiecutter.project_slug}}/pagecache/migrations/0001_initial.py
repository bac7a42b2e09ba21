import secrets

from django.db import migrations, models

from ..invalidation import vendor_module


def unlogged_cache_table(apps, schema_editor):
    """The cache's table without crash safety, where the database's module says how
    (UNLOGGED_CACHE_TABLE): the database then writes no log for it, and so flushes
    none at commit. Such a table is emptied after a crash: right for a cache."""
    vendor = schema_editor.connection.vendor
    statement = getattr(vendor_module(vendor), "UNLOGGED_CACHE_TABLE", None)
    if statement:
        schema_editor.execute(statement)


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
        migrations.RunPython(unlogged_cache_table, migrations.RunPython.noop),
        migrations.RunPython(first_generation, migrations.RunPython.noop),
    ]
