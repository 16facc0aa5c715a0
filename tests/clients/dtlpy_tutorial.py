"""Dataloop's analytics tutorial (../../shared/reference/dataloop-analytics-query-api.md), run by
tests/test_dtlpy_client.py with the interpreter of .venv-dtlpy (dtlpy pinned there). Between the
marked lines it is the tutorial as published, except dtlpy's own keyword `json_req=` where the
tutorial writes `json=`. Everything it read is written as JSON to the path in argv[1].

Environment: ANALYTICS_URL (the server, e.g. http://127.0.0.1:8000), ANALYTICS_TOKEN (an API key),
PROJECT_NAME, DATASET_NAME (a task of that project).
"""

import json
import os
import sys

import dtlpy as dl
import pandas as pd

# --- set-up lines: this server instead of Dataloop's cloud ---------------------------------------
server = os.environ["ANALYTICS_URL"]
dl.add_environment(environment=f"{server}/api", alias="analytics")
dl.setenv(f"{server}/api")
dl.login_token(os.environ["ANALYTICS_TOKEN"])
PROJECT_NAME, DATASET_NAME = os.environ["PROJECT_NAME"], os.environ["DATASET_NAME"]
# --- the tutorial --------------------------------------------------------------------------------

project = dl.projects.get(project_name=PROJECT_NAME)
payload = {
    "startTime": project.created_at,
    "endTime": None,
    "context": {"projectId": [project.id]},
    "measures": [{"measureType": "activeUsers"}],
}

success, resp = dl.client_api.gen_request(req_type="post", path="/analytics/query", json_req=payload)
samples = resp.json()
active_users_df = pd.DataFrame(samples[0]["response"])

project = dl.projects.get(project_name=PROJECT_NAME)
dataset = project.datasets.get(dataset_name=DATASET_NAME)

payload = {
    "startTime": project.created_at,
    "endTime": None,
    "context": {"projectId": [project.id], "datasetId": [dataset.id]},
    "measures": [
        {
            "measureType": "countItemInAnnotationTimeBucket",
            "sortDirection": "descending",
            "timeGranularity": ["hour", "day"],
        }
    ],
}

success, resp = dl.client_api.gen_request(req_type="post", path="/analytics/query", json_req=payload)
samples = resp.json()
if samples[0]["response"]:
    hour_data = samples[0]["response"]
    hour_df = pd.DataFrame.from_dict(data=hour_data)

if samples[1]["response"]:
    day_data = samples[1]["response"]
    day_df = pd.DataFrame.from_dict(data=day_data)

# --- what the test checks --------------------------------------------------------------------------
with open(sys.argv[1], "w") as out:
    json.dump(
        {
            "dtlpy_version": dl.__version__,
            "user_email": dl.info()["user_email"],
            "project": {"id": project.id, "name": project.name, "created_at": project.created_at},
            "dataset": {"id": dataset.id, "name": dataset.name},
            "entries": [{k: v for k, v in s.items() if k != "response"} for s in samples],
            "active_users": active_users_df.to_dict(orient="records"),
            "hour": hour_df.to_dict(orient="records"),
            "day": day_df.to_dict(orient="records"),
        },
        out,
    )
