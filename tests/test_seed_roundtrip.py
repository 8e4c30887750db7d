"""The seed page (real scraped Arabic) through the API: exact round trip, search, diff."""

import unicodedata
from pathlib import Path

SEED = (Path(__file__).parent / "fixtures" / "seed" / "000_b0cbef1f536209a0.txt").read_text("utf-8")


def test_seed_round_trip(client, writer):
    headers = writer[1]
    lines = SEED.splitlines()
    created = client.post("/v1/articles", headers=headers, json={
        "language": "ar", "headline": lines[8], "body": SEED, "source_name": "aawsat",
    })
    assert created.status_code == 201, created.get_json()
    article = created.get_json()
    url = f"/v1/articles/{article['id']}"

    read = client.get(url, headers=headers)
    assert read.get_json()["body"] == unicodedata.normalize("NFC", SEED)
    assert read.get_json()["body"].encode("utf-8") == unicodedata.normalize("NFC", SEED).encode()
    assert read.get_json()["direction"] == "rtl"

    for query in ({"language": "ar"}, {"source": "aawsat"}, {"q": "لافروف"}, {"q": "جنيف"}):
        items = client.get("/v1/articles", query_string=query, headers=headers).get_json()["items"]
        assert [i["id"] for i in items] == [article["id"]], query

    cleaned = "\n".join(lines[:8])
    edited = client.patch(url, json={"body": cleaned},
                          headers={**headers, "If-Match": read.headers["ETag"]})
    assert edited.status_code == 200
    diff = client.get(f"{url}/revisions/diff?from=1&to=2", headers=headers).get_json()
    hunks = diff["fields"]["body"]["hunks"]
    assert hunks == [{"op": "delete", "from_line": 9, "from_lines": lines[8:], "to_line": 9,
                      "to_lines": []}]
    first = client.get(f"{url}/revisions/1", headers=headers).get_json()
    assert first["body"] == unicodedata.normalize("NFC", SEED)


def test_arabic_is_sent_as_utf8_not_escapes(client, writer):
    response = client.post("/v1/articles", json={"language": "ar", "headline": "عنوان"},
                           headers=writer[1])
    assert "عنوان".encode() in response.data and b"\\u" not in response.data
