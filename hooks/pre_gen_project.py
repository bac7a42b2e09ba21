"""Refuse answers that would give a broken project, with one sentence each.

cookiecutter deletes the half-made output directory when this hook exits 1.
"""

import json
import keyword
import re
import sys

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")

# Every top-level module and distribution name the project installs with every
# answer on: a slug among them could not be installed beside it. tests/test_hooks.py
# installs them all and compares.
INSTALLED_NAMES = {
    "_pytest",
    "apscheduler",
    "asgiref",
    "cronsim",
    "django",
    "django_environ",
    "django_stubs_ext",
    "django_tasks_db",
    "environ",
    "gunicorn",
    "honcho",
    "iniconfig",
    "mysqlclient",
    "mysqldb",  # MySQLdb, on a file system that ignores case
    "packaging",
    "pluggy",
    "psycopg",
    "psycopg_binary",
    "py",
    "pygments",
    "pytest",
    "pytest_django",
    "ruff",
    "sqlparse",
    "typing_extensions",
    "tzlocal",
    "whitenoise",
}

# The project's own top-level names, and the directories its .gitignore drops.
PROJECT_NAMES = {
    "backups",
    "config",
    "conftest",
    "core",
    "deploy",
    "docs",
    "manage",
    "staticfiles",
    "test",
    "tests",
    "users",
}

TAKEN_NAMES = INSTALLED_NAMES | PROJECT_NAMES | set(sys.stdlib_module_names)

# Long enough for any name; short enough that import lines stay within 100 columns.
MAX_SLUG_LENGTH = 40

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Host names as DNS writes them: internationalised labels in their xn-- form.
DOMAIN = re.compile(
    r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)

# Characters that TOML or YAML cannot hold in a one-line string, or read back as
# something else: control characters, line and paragraph separators, lone surrogates
# (undecodable bytes on a command line) and the two non-characters.
UNWRITABLE = re.compile("[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\ud800-\\udfff\\ufffe\\uffff]")
# Django template syntax, which the project's templates would run as code; the
# braces are written as escapes because cookiecutter renders this file with Jinja.
TEMPLATE_TAG = re.compile(r"\x7b[\x7b%#]|[\x7d%#]\x7d")


def answers_are_plain_text(answers):
    for name, value in answers.items():
        if name.startswith("_") or not isinstance(value, str):
            continue
        if UNWRITABLE.search(value):
            return (
                f"{name} {value!r} holds a control character, a line break or an "
                "undecodable byte: write one line of text."
            )
        if TEMPLATE_TAG.search(value):
            return f"{name} {value!r} holds template syntax (a brace with a brace, % or #)."
    return None


def slug_is_a_python_name(answers):
    slug = answers["project_slug"]
    if not re.fullmatch(r"[a-z][a-z0-9_]*", slug) or keyword.iskeyword(slug):
        return (
            f"project_slug {slug!r} is not a lowercase Python name: use letters, "
            "digits and underscores, starting with a letter."
        )
    if len(slug) > MAX_SLUG_LENGTH:
        return f"project_slug {slug!r} is longer than {MAX_SLUG_LENGTH} characters."
    return None


def slug_shadows_nothing(answers):
    slug = answers["project_slug"]
    if slug in TAKEN_NAMES:
        return (
            f"project_slug {slug!r} would shadow the module of that name, or git would "
            "ignore it; choose another."
        )
    return None


def email_is_valid(answers):
    email = answers["author_email"]
    if not EMAIL.fullmatch(email):
        return f"author_email {email!r} is not an email address."
    return None


def ascii_form(domain):
    """The domain as DNS writes it (xn-- labels), or None if it is no valid IDNA name."""
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
        ascii_domain.encode("ascii").decode("idna")  # each xn-- label must decode
    except UnicodeError:
        return None
    return ascii_domain


def domain_is_valid(answers):
    domain = answers["domain_name"]
    if not domain.isascii() and (ascii_domain := ascii_form(domain)):
        return f"domain_name {domain!r} must be written as DNS writes it: {ascii_domain}."
    if not DOMAIN.fullmatch(domain) or ascii_form(domain) is None:
        return (
            f"domain_name {domain!r} is not a lowercase host name such as example.com "
            "(no scheme, port or path)."
        )
    return None


VALIDATORS = (
    answers_are_plain_text,
    slug_is_a_python_name,
    slug_shadows_nothing,
    email_is_valid,
    domain_is_valid,
)


def main():
    for validate in VALIDATORS:
        error = validate(ANSWERS)
        if error:
            print(f"ERROR: {error}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
