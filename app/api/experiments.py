"""An article's headline experiment: start, control, pick a winner, read the results."""

from flask import Response
from flask.views import MethodView

from app.api.auth import current_user, login_required
from app.api.http import ApiBlueprint
from app.experiments import chart, experiment_results, experiments
from app.experiments.event_stores import event_store
from app.schemas.experiments import (
    EventMetricsSchema,
    ExperimentActionSchema,
    ExperimentResultsSchema,
    ExperimentSchema,
    ExperimentStartSchema,
    WinnerSchema,
)

blp = ApiBlueprint("experiments", __name__, url_prefix="/v1",
                   description="Headline experiments (A/B tests of an article's candidates)")


def _errors(view):
    for code, name in ((404, "NOT_FOUND"), (409, "CONFLICT")):
        view = blp.alt_response(code, response=name)(view)
    return view


@blp.route("/articles/<article_id>/experiment")
class ArticleExperiment(MethodView):
    @login_required()
    @blp.response(200, ExperimentResultsSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, article_id):
        """Results of the article's current or latest experiment"""
        return experiment_results.results(experiments.read_current(current_user(), article_id))

    @login_required("experiments")
    @blp.arguments(ExperimentStartSchema)
    @blp.response(201, ExperimentSchema)
    @_errors
    def post(self, data, article_id):
        """Start an experiment on a live article's approved candidates"""
        return experiments.start(current_user(), article_id, data), 201


@blp.route("/articles/<article_id>/experiment/actions")
class ExperimentActions(MethodView):
    @login_required("experiments")
    @blp.arguments(ExperimentActionSchema)
    @blp.response(200, ExperimentSchema)
    @_errors
    def post(self, data, article_id):
        """Pause, resume or stop the running experiment (stop keeps the default headline)"""
        return experiments.control(current_user(), article_id, data["action"])


@blp.route("/articles/<article_id>/experiment/winner")
class ExperimentWinner(MethodView):
    @login_required("experiments")
    @blp.arguments(WinnerSchema)
    @blp.response(200, ExperimentSchema)
    @_errors
    def post(self, data, article_id):
        """Pick the winner by hand (an override; the statistical verdict is kept)"""
        return experiments.pick_winner(current_user(), article_id, data["candidate_id"])


@blp.route("/articles/<article_id>/experiment/chart.svg")
class ExperimentChart(MethodView):
    @login_required()
    @blp.response(200, content_type="image/svg+xml",
                  description="CTR per candidate over time with intervals, and traffic share")
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, article_id):
        """The experiment as a chart"""
        results = experiment_results.results(experiments.read_current(current_user(), article_id))
        return Response(chart.render(results), mimetype="image/svg+xml")


@blp.route("/experiments/event-metrics")
class EventMetrics(MethodView):
    @login_required("operations")
    @blp.response(200, EventMetricsSchema)
    def get(self):
        """Events received by outcome, and how many await the next flush"""
        store = event_store()
        return {"store": store.name, "outcomes": store.metrics(), "pending": store.pending()}
