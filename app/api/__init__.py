"""HTTP resources: thin views that parse input, call a service and shape output."""

from app.api import (
    articles,
    comments,
    deliveries,
    experiments,
    feeds,
    headlines,
    health,
    imports,
    outlets,
    public,
    revisions,
    sites,
    snippet,
    system,
    users,
    workflow,
)

BLUEPRINTS = (health.blp, users.blp, articles.blp, revisions.blp, workflow.blp, comments.blp,
              headlines.blp, experiments.blp, imports.blp, sites.blp, public.blp, outlets.blp, deliveries.blp,
              feeds.blp, system.blp, snippet.blp)


def register_blueprints(api) -> None:
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
