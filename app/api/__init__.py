"""HTTP resources: thin views that parse input, call a service and shape output."""

from app.api import articles, health, revisions, system, users

BLUEPRINTS = (health.blp, users.blp, articles.blp, revisions.blp, system.blp)


def register_blueprints(api) -> None:
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
