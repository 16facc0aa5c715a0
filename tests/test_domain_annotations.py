"""Job annotations (`/api/jobs/{id}/annotations`): GET, PUT, PATCH create/update/delete, DELETE,
validation, and the `annotations_changed` calls that become server events."""

from __future__ import annotations

import sys
import types

import pytest

from annotation.models import LabeledShape, LabeledTag, LabeledTrack
from test_domain_helpers import build_world, make_project_tree, ok, use_fast_passwords


@pytest.fixture
def calls(monkeypatch):
    """Records every annotations_changed(job, action, ...) call; the real function (if the events
    module exists) still runs, so the objects we hand it are exercised too."""
    recorded = []
    try:
        import events.server_events as module
    except ImportError:
        module = types.ModuleType("events.server_events")
        monkeypatch.setitem(sys.modules, "events.server_events", module)
    original = getattr(module, "annotations_changed", None)

    def annotations_changed(job, action, *, tags=(), shapes=(), tracks=()):
        recorded.append(
            {
                "job": job.pk,
                "action": action,
                "tags": sorted(t.id for t in tags),
                "shapes": sorted(s.id for s in shapes),
                "tracks": sorted(t.id for t in tracks),
            }
        )
        if original is not None:
            original(job, action, tags=tags, shapes=shapes, tracks=tracks)

    monkeypatch.setattr(module, "annotations_changed", annotations_changed, raising=False)
    return recorded


@pytest.fixture
def ctx(api, settings, calls):
    use_fast_passwords(settings)
    world = build_world()
    alice = world.acme_client("alice")
    tree = make_project_tree(alice, labels=("car", "person"))
    labels = {label["name"]: label["id"] for label in tree["labels"]}
    url = f"/api/jobs/{tree['job']['id']}/annotations"
    return types.SimpleNamespace(
        world=world, client=alice, tree=tree, labels=labels, url=url, calls=calls, job_id=tree["job"]["id"]
    )


def rect(label_id, frame=0, **extra):
    return {"type": "rectangle", "frame": frame, "label_id": label_id, "points": [0, 0, 10, 10], **extra}


def track(label_id):
    return {
        "frame": 0,
        "label_id": label_id,
        "shapes": [
            {"type": "polygon", "frame": 0, "points": [0, 0, 5, 0, 5, 5]},
            {"type": "polygon", "frame": 5, "points": [1, 1, 6, 1, 6, 6], "outside": True},
        ],
    }


def test_get_empty(ctx):
    assert ok(ctx.client.get(ctx.url)) == {"version": 0, "tags": [], "shapes": [], "tracks": []}


def test_put_replaces_everything(ctx):
    car, person = ctx.labels["car"], ctx.labels["person"]
    body = {
        "version": 0,
        "tags": [{"frame": 0, "label_id": car}],
        "shapes": [rect(car), rect(person, 1, occluded=True, attributes=[{"spec_id": 1, "value": "red"}])],
        "tracks": [track(person)],
    }
    first = ok(ctx.client.put(ctx.url, body))
    assert first["version"] == 1 and len(first["tags"]) == 1 and len(first["tracks"]) == 1
    shape = first["shapes"][1]
    assert shape["id"] and shape["occluded"] is True and shape["outside"] is False and shape["z_order"] == 0
    assert shape["attributes"] == [{"spec_id": 1, "value": "red"}] and shape["source"] == "manual"
    assert first["tracks"][0]["shapes"][1]["outside"] is True
    assert ok(ctx.client.get(ctx.url)) == first

    second = ok(ctx.client.put(ctx.url, {"shapes": [rect(car, 3)]}))
    assert second["version"] == 2 and second["tags"] == [] and second["tracks"] == []
    assert [s["frame"] for s in second["shapes"]] == [3]
    assert (
        LabeledShape.objects.count() == 1
        and not LabeledTag.objects.exists()
        and not LabeledTrack.objects.exists()
    )

    old_shape_ids = sorted(s["id"] for s in first["shapes"])
    assert [c["action"] for c in ctx.calls] == ["create", "delete", "create"]
    assert ctx.calls[1]["shapes"] == old_shape_ids and ctx.calls[1]["tags"] == [first["tags"][0]["id"]]
    assert ctx.calls[2]["shapes"] == [second["shapes"][0]["id"]]
    assert all(c["job"] == ctx.job_id for c in ctx.calls)


def test_patch_create_update_delete_round_trip(ctx):
    car, person = ctx.labels["car"], ctx.labels["person"]
    created = ok(
        ctx.client.patch(
            ctx.url + "?action=create",
            {
                "shapes": [rect(car), rect(car, 2)],
                "tags": [{"frame": 4, "label_id": person}],
                "tracks": [track(car)],
            },
        )
    )
    shape_ids = [s["id"] for s in created["shapes"]]
    assert all(shape_ids) and created["tags"][0]["id"] and created["tracks"][0]["id"]
    assert ctx.calls[-1] == {
        "job": ctx.job_id,
        "action": "create",
        "tags": [created["tags"][0]["id"]],
        "shapes": sorted(shape_ids),
        "tracks": [created["tracks"][0]["id"]],
    }

    updated = ok(
        ctx.client.patch(
            ctx.url + "?action=update",
            {
                "shapes": [{"id": shape_ids[0], "label_id": person, "points": [1, 1, 2, 2], "z_order": 3}],
                "tracks": [
                    {
                        "id": created["tracks"][0]["id"],
                        "shapes": [{"type": "points", "frame": 0, "points": [1, 1]}],
                    }
                ],
            },
        )
    )
    assert updated["shapes"][0]["label_id"] == person and updated["shapes"][0]["z_order"] == 3
    assert updated["shapes"][0]["frame"] == 0 and updated["shapes"][0]["type"] == "rectangle"  # kept
    assert updated["tracks"][0]["shapes"][0]["type"] == "points"
    assert ctx.calls[-1]["action"] == "update" and ctx.calls[-1]["shapes"] == [shape_ids[0]]

    deleted = ok(ctx.client.patch(ctx.url + "?action=delete", {"shapes": [{"id": shape_ids[1]}], "tags": []}))
    assert [s["id"] for s in deleted["shapes"]] == [shape_ids[1]]
    assert ctx.calls[-1] == {
        "job": ctx.job_id,
        "action": "delete",
        "tags": [],
        "shapes": [shape_ids[1]],
        "tracks": [],
    }

    current = ok(ctx.client.get(ctx.url))
    assert [s["id"] for s in current["shapes"]] == [shape_ids[0]] and current["shapes"][0]["points"] == [
        1,
        1,
        2,
        2,
    ]
    assert len(current["tags"]) == 1 and len(current["tracks"]) == 1 and current["version"] == 3

    ok(ctx.client.delete(ctx.url), 204)
    assert ok(ctx.client.get(ctx.url))["shapes"] == []
    assert ctx.calls[-1]["action"] == "delete" and ctx.calls[-1]["shapes"] == [shape_ids[0]]
    assert len(ctx.calls[-1]["tags"]) == 1 and len(ctx.calls[-1]["tracks"]) == 1
    calls_before = len(ctx.calls)
    ok(ctx.client.delete(ctx.url), 204)  # nothing left: no change reported
    assert len(ctx.calls) == calls_before


def test_label_of_another_project_is_400_naming_the_field(ctx):
    other = make_project_tree(ctx.client, labels=("tree",))
    foreign = other["labels"][0]["id"]
    car = ctx.labels["car"]
    response = ctx.client.put(ctx.url, {"shapes": [rect(car), rect(car), rect(foreign)]})
    assert response.status_code == 400
    assert list(response.json()) == ["shapes[2].label_id"]
    response = ctx.client.patch(ctx.url + "?action=create", {"tags": [{"frame": 0, "label_id": 424242}]})
    assert response.status_code == 400 and "tags[0].label_id" in response.json()
    assert not LabeledShape.objects.exists() and ctx.calls == []


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"type": "rectangle", "frame": 0, "points": [0, 0, 1, 1]}, "shapes[0].label_id"),
        ({"type": "rectangle", "label_id": "L", "points": [0, 0, 1, 1]}, "shapes[0].frame"),
        ({"type": "rectangle", "label_id": "L", "frame": -1, "points": [0, 0, 1, 1]}, "shapes[0].frame"),
        ({"type": "blob", "label_id": "L", "frame": 0, "points": [0, 0, 1, 1]}, "shapes[0].type"),
        ({"type": "rectangle", "label_id": "L", "frame": 0, "points": [0, 0, 1]}, "shapes[0].points"),
        ({"type": "polygon", "label_id": "L", "frame": 0, "points": [0, 0, 1, 1]}, "shapes[0].points"),
        ({"type": "rectangle", "label_id": "L", "frame": 0, "points": [0, 0, 1, "x"]}, "shapes[0].points[3]"),
        ({"type": "rectangle", "label_id": "L", "frame": 0, "points": "0,0,1,1"}, "shapes[0].points"),
        (
            {"type": "rectangle", "label_id": "L", "frame": 0, "points": [0, 0, 1, 1], "occluded": "yes"},
            "shapes[0].occluded",
        ),
        (
            {"type": "rectangle", "label_id": "L", "frame": 0, "points": [0, 0, 1, 1], "source": "magic"},
            "shapes[0].source",
        ),
        (
            {
                "type": "rectangle",
                "label_id": "L",
                "frame": 0,
                "points": [0, 0, 1, 1],
                "attributes": [{"value": "x"}],
            },
            "shapes[0].attributes[0].spec_id",
        ),
        (
            {"type": "rectangle", "label_id": "L", "frame": 0, "points": [0, 0, 1, 1], "rotation": None},
            "shapes[0].rotation",
        ),
        ("not an object", "shapes[0]"),
    ],
)
def test_invalid_shapes_are_400_naming_the_field(ctx, item, field):
    if isinstance(item, dict) and item.get("label_id") == "L":
        item = {**item, "label_id": ctx.labels["car"]}
    response = ctx.client.patch(ctx.url + "?action=create", {"shapes": [item]})
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_invalid_bodies(ctx):
    car = ctx.labels["car"]
    cases = [
        ("put", {"shapes": "nope"}, "shapes"),
        ("put", {"version": "one"}, "version"),
        ("put", {"tracks": [{"frame": 0, "label_id": car, "shapes": []}]}, "tracks[0].shapes"),
        (
            "put",
            {"tracks": [{"frame": 0, "label_id": car, "shapes": [{"type": "rectangle", "frame": 0}]}]},
            "tracks[0].shapes[0].points",
        ),
        ("put", ["not", "an", "object"], "non_field_errors"),
        ("patch?action=update", {"shapes": [{"label_id": car}]}, "shapes[0].id"),
        ("patch?action=update", {"shapes": [{"id": 999999, "frame": 1}]}, "shapes[0].id"),
        ("patch?action=delete", {"tags": [{"id": 999999}]}, "tags[0].id"),
        ("patch?action=delete", {"tags": [{}]}, "tags[0].id"),
        ("patch?action=merge", {}, "action"),
        ("patch", {}, "action"),
    ]
    for method, body, field in cases:
        if method == "put":
            response = ctx.client.put(ctx.url, body)
        else:
            query = method.partition("?")[2]
            response = ctx.client.patch(ctx.url + (f"?{query}" if query else ""), body)
        assert response.status_code == 400, (method, body, response.content)
        assert field in response.json(), (method, body, response.json())
    assert ctx.calls == []


def test_update_keeps_shapes_consistent(ctx):
    created = ok(ctx.client.patch(ctx.url + "?action=create", {"shapes": [rect(ctx.labels["car"])]}))
    shape_id = created["shapes"][0]["id"]
    # Turning a rectangle into a polygon needs polygon points.
    response = ctx.client.patch(ctx.url + "?action=update", {"shapes": [{"id": shape_id, "type": "polygon"}]})
    assert response.status_code == 400 and "shapes[0].points" in response.json()
    response = ctx.client.patch(ctx.url + "?action=update", {"shapes": [{"id": shape_id}, {"id": shape_id}]})
    assert response.status_code == 400 and "shapes[1].id" in response.json()
    assert LabeledShape.objects.get().type == "rectangle"


def test_standalone_task_job_uses_the_task_labels(ctx):
    client = ctx.client
    task = ok(client.post("/api/tasks", {"name": "Solo", "labels": [{"name": "dog"}]}), 201)
    job = ok(client.post("/api/jobs", {"task_id": task["id"]}), 201)
    url = f"/api/jobs/{job['id']}/annotations"
    ok(client.put(url, {"tags": [{"frame": 0, "label_id": task["labels"][0]["id"]}]}))
    response = client.put(url, {"tags": [{"frame": 0, "label_id": ctx.labels["car"]}]})
    assert response.status_code == 400 and "tags[0].label_id" in response.json()


def test_annotations_of_another_job_cannot_be_updated_or_deleted(ctx):
    created = ok(ctx.client.patch(ctx.url + "?action=create", {"shapes": [rect(ctx.labels["car"])]}))
    other_job = ok(ctx.client.post("/api/jobs", {"task_id": ctx.tree["task"]["id"]}), 201)
    other_url = f"/api/jobs/{other_job['id']}/annotations"
    shape_id = created["shapes"][0]["id"]
    response = ctx.client.patch(other_url + "?action=delete", {"shapes": [{"id": shape_id}]})
    assert response.status_code == 400 and "shapes[0].id" in response.json()
    assert LabeledShape.objects.filter(pk=shape_id).exists()


def test_workers_and_supervisors_change_annotations(ctx):
    for username in ("wendy", "sam"):
        client = ctx.world.acme_client(username)
        ok(client.put(ctx.url, {"shapes": [rect(ctx.labels["car"])]}))
        ok(client.patch(ctx.url + "?action=create", {"tags": [{"frame": 1, "label_id": ctx.labels["car"]}]}))
        ok(client.delete(ctx.url), 204)


def test_anonymous_annotations_401(ctx):
    from test_domain_helpers import client_for

    assert client_for().get(ctx.url).status_code == 401
    assert client_for().put(ctx.url, {}).status_code == 401
