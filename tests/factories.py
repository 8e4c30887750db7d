"""Factories for users, tokens and articles, going through the services like real callers."""

from app.models import Role
from app.platform import users as user_service


class Factory:
    def __init__(self, app, client) -> None:
        self.app = app
        self.client = client
        self._count = 0

    def user(self, role: str = "writer", email: str | None = None):
        self._count += 1
        with self.app.app_context():
            return user_service.create_user(email or f"user{self._count}@example.org", Role(role),
                                            name=f"{role.title()} {self._count}")

    def headers(self, user) -> dict:
        with self.app.app_context():
            secret = user_service.issue_token(user, name="test").secret
        return {"Authorization": f"Bearer {secret}"}

    def login(self, role: str = "writer"):
        user = self.user(role)
        return user, self.headers(user)

    def article(self, headers: dict, **fields) -> dict:
        payload = {"language": "en", "headline": "A headline", "body": "First line.", **fields}
        response = self.client.post("/v1/articles", json=payload, headers=headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()
