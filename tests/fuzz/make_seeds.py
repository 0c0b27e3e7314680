#!/usr/bin/env python3
"""Writes the seed inputs of tracker_response_fuzzer and board_fuzzer into tests/fuzz/corpus/.

A seed is a whole Test (or a whole board fetch) whose answers are valid 200s, shaped as the
trackers document them (reference/tracker-apis.md), so that libFuzzer's mutations start inside the
JSON decoders instead of at the status rules in front of them. A few seeds carry one field of the
wrong type, the shapes that used to make the agent abort.

The byte encoding is the one tests/fuzz/fuzz_reader.hpp reads:
  tracker_response: kind, then per answer: status (u16, status = 100 + value % 500), content type
                    (index), header count (% 3) and each header (name index, length % 64, value),
                    body length (high byte * 16 + low nibble), body.
  board:            mode, then per answer: status byte (< 200 means 200, else one of
                    kStatuses), content type byte
                    (% 8 == 0 is text/html), headers as above (length % 32), body length, body;
                    an even mode is followed by a board cache file instead.

    python3 tests/fuzz/make_seeds.py      (rewrites the generated seeds; commit the result)
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
TRACKER_HEADERS = ["X-Seraph-LoginReason", "X-Authentication-Denied-Reason", "Location", "Retry-After",
                   "Content-Type", "x-ms-continuationtoken", "WWW-Authenticate"]
BOARD_HEADERS = ["Retry-After", "X-RateLimit-Delay", "X-RateLimit-Remaining", "X-RateLimit-Limit",
                 "x-ms-continuationtoken", "X-RateLimit-NearLimit"]


def body_bytes(body):
    data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    assert len(data) <= 4095, len(data)
    return bytes([len(data) >> 4, len(data) & 15]) + data


def tracker_answer(body, status=200, headers=()):
    out = bytes([(status - 100) >> 8, (status - 100) & 255, 0, len(headers)])
    for name, value in headers:
        out += bytes([TRACKER_HEADERS.index(name), len(value)]) + value.encode()
    return out + body_bytes(body)


BOARD_STATUSES = [203, 302, 400, 401, 403, 404, 410, 429, 500, 503]


def board_answer(body, headers=(), status=200):
    out = bytes([1 if status == 200 else 200 + BOARD_STATUSES.index(status), 1, len(headers)])
    for name, value in headers:
        out += bytes([BOARD_HEADERS.index(name), len(value)]) + value.encode()
    return out + body_bytes(body)


PERMISSIONS = {"permissions": {k: {"id": str(i), "key": k, "type": "PROJECT", "havePermission": True}
                               for i, k in enumerate(["BROWSE_PROJECTS", "CREATE_ISSUES", "EDIT_ISSUES",
                                                      "TRANSITION_ISSUES", "CREATE_ATTACHMENTS", "ADD_COMMENTS",
                                                      "DELETE_ALL_COMMENTS", "USER_PICKER"])}}
CLOUD_INFO = {"baseUrl": "https://jira.example", "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0],
              "deploymentType": "Cloud", "buildNumber": 100133, "serverTitle": "Jira"}
DC_INFO = dict(CLOUD_INFO, version="9.12.2", versionNumbers=[9, 12, 2], deploymentType="Server")
CLOUD_ME = {"accountId": "5b10a2844c20165700ede21g", "accountType": "atlassian", "emailAddress": "mia@example.com",
            "displayName": "Mia Krystof", "active": True}
DC_ME = {"key": "JIRAUSER10100", "name": "mia", "emailAddress": "mia@example.com", "displayName": "Mia Krystof"}
ADO_ME = {"authenticatedUser": {"id": "8d1e0c2a-1b5c-4a6e-9a51-3f7c2b6d9e10",
                                "descriptor": "Microsoft.IdentityModel.Claims.ClaimsIdentity;t\\mia@example.com",
                                "providerDisplayName": "Mia Krystof", "isActive": True},
          "instanceId": "e3f1", "deploymentType": "hosted"}
PROJECT = {"id": "eb6e4656-77fc-42a1-9181-4c6d8e9da5d0", "name": "Fiber", "state": "wellFormed", "revision": 411,
           "visibility": "private", "url": "https://dev.azure.com/fabrikam/_apis/projects/eb6e4656"}
BUILDS = {"count": 1, "value": [{"id": 7, "buildNumber": "20261124.1", "status": "completed", "result": "succeeded",
                                 "definition": {"id": 1, "name": "CI"}}]}
TFVC = {"count": 1, "value": [{"changesetId": 16, "createdDate": "2026-03-24T20:21:02.727Z",
                               "author": {"displayName": "Mia"}}]}

# kind: odd = Jira (2: personal access token, 4: with a token expiry date); even = Azure DevOps
# (2: dev.azure.com, 4: project Fiber named, 8: TFVC checked).
ENTRA_TOKEN = {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "eyJ0eXAiOiJKV1Qi"}
ENTRA_ERROR = {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.",
               "error_codes": [7000215], "timestamp": "2026-12-07 20:00:00Z", "trace_id": "0f6d", "correlation_id": "9a1b"}
IMDS_TOKEN = {"access_token": "eyJ0eXAiOiJKV1Qi", "expires_in": "86399", "expires_on": "1796000000",
              "resource": "499b84ac-1321-427f-aa17-267ca6975798", "token_type": "Bearer"}

TRACKER_SEEDS = {
    "jira-cloud": (1, [tracker_answer(CLOUD_INFO), tracker_answer(CLOUD_ME), tracker_answer(PERMISSIONS)]),
    "jira-dc-pat": (7, [tracker_answer(DC_INFO), tracker_answer(DC_ME), tracker_answer(PERMISSIONS)]),
    "jira-serverinfo-refused": (1, [tracker_answer({"errorMessages": ["not allowed"]}, 401), tracker_answer(CLOUD_ME),
                                    tracker_answer(PERMISSIONS)]),
    "jira-version-strings": (3, [tracker_answer(dict(DC_INFO, versionNumbers=["8"]))]),
    "jira-permission-yes": (1, [tracker_answer(CLOUD_INFO), tracker_answer(CLOUD_ME),
                                tracker_answer({"permissions": {"BROWSE_PROJECTS": {"havePermission": "yes"}}})]),
    "jira-echoed-secret": (1, [tracker_answer(CLOUD_INFO), tracker_answer(dict(CLOUD_ME, displayName="CANARY-SECRET")),
                               tracker_answer(PERMISSIONS)]),
    "ado-named-project": (14, [tracker_answer(ADO_ME), tracker_answer(PROJECT), tracker_answer(BUILDS),
                               tracker_answer(TFVC)]),
    "ado-detect-paged": (0, [tracker_answer(ADO_ME),
                             tracker_answer({"count": 1, "value": [PROJECT]}, headers=[("x-ms-continuationtoken", "1")]),
                             tracker_answer({"count": 0, "value": []}), tracker_answer(BUILDS)]),
    "ado-user-id-number": (2, [tracker_answer({"authenticatedUser": {"id": 5}})]),
    # Entra sign-ins: the token endpoint's answer comes first (kind 16+: service principal,
    # 32+: managed identity, 64+: on Azure Arc, whose challenge names the key file).
    "ado-service-principal": (16 + 14, [tracker_answer(ENTRA_TOKEN), tracker_answer(ADO_ME), tracker_answer(PROJECT),
                                        tracker_answer(BUILDS), tracker_answer(TFVC)]),
    "ado-entra-refused": (16 + 14, [tracker_answer(ENTRA_ERROR, 401)]),
    "ado-imds": (32 + 14, [tracker_answer(IMDS_TOKEN), tracker_answer(ADO_ME), tracker_answer(PROJECT),
                           tracker_answer(BUILDS), tracker_answer(TFVC)]),
    # Device code (16+32): the refresh grant's answer first; with 128, the device code offer, a
    # poll's answer and an id_token's text come before the Test.
    "ado-device-code": (16 + 32 + 14, [tracker_answer(dict(ENTRA_TOKEN, refresh_token="0.AX0A-rotated")),
                                       tracker_answer(ADO_ME), tracker_answer(PROJECT), tracker_answer(BUILDS),
                                       tracker_answer(TFVC)]),
    "ado-device-code-offer": (128 + 16 + 32 + 14, [
        tracker_answer({"user_code": "GQ7HR2KXP", "device_code": "DAQABAAEAAA", "verification_uri":
                        "https://microsoft.com/devicelogin", "expires_in": 900, "interval": 5,
                        "message": "To sign in, open https://microsoft.com/devicelogin and enter GQ7HR2KXP."}),
        tracker_answer(dict(ENTRA_TOKEN, refresh_token="0.AX0A", id_token="e30.eyJwcmVmZXJyZWRfdXNlcm5hbWUiOiJtaWEifQ.s")),
        body_bytes(b"e30.eyJwcmVmZXJyZWRfdXNlcm5hbWUiOiJtaWFAZmFicmlrYW0uZXhhbXBsZSJ9.sig")]),
    # Jira OAuth 2.0 (8; 16: Cloud through the gateway): the refresh grant's answer first; with
    # 128, serverInfo, the code exchange, Atlassian's site list and a landing address come first.
    "jira-cloud-oauth2": (1 + 8 + 16, [tracker_answer({"access_token": "eyJraWQiOiJhIn0", "expires_in": 3600,
                                                       "token_type": "Bearer", "refresh_token": "eyJyb3RhdGVkIn0"}),
                                       tracker_answer(CLOUD_INFO), tracker_answer(CLOUD_ME), tracker_answer(PERMISSIONS)]),
    "jira-oauth2-signin": (128 + 1 + 8 + 16, [
        tracker_answer(CLOUD_INFO),
        tracker_answer({"access_token": "eyJraWQiOiJhIn0", "expires_in": 3600, "token_type": "Bearer",
                        "refresh_token": "eyJmaXJzdCJ9", "scope": "read:jira-work offline_access"}),
        tracker_answer([{"id": "1324a887-45db-1bf4-1e99-ef0ff456d421", "name": "fabrikam",
                         "url": "https://fabrikam.atlassian.net", "scopes": ["read:jira-work"], "avatarUrl": "x"}]),
        body_bytes(b"https://kiosk.local/oauth/callback?code=abc&state=0123456789abcdef")]),
    "ado-arc": (64 + 32 + 14, [tracker_answer({}, 401, headers=[("WWW-Authenticate", "Basic realm=/var/opt/azcmagent/tokens/a.key")]),
                               tracker_answer(IMDS_TOKEN), tracker_answer(ADO_ME), tracker_answer(PROJECT),
                               tracker_answer(BUILDS), tracker_answer(TFVC)]),
}


def issue(i, fields=True):
    cats = [("To Do", "new"), ("In Progress", "indeterminate"), ("Done", "done")]
    name, key = cats[i % 3]
    out = {"id": str(10000 + i), "key": "TL-%d" % (i + 1)}
    if fields:
        out["fields"] = {"summary": "Issue %d" % (i + 1),
                         "status": {"name": name, "statusCategory": {"id": i % 3 + 2, "key": key, "name": name}},
                         "assignee": {"displayName": "Mia Krystof"} if i % 2 else None,
                         "priority": {"name": ["High", "Medium", "Low"][i % 3]}}
    return out


def build(i, name, status="completed", result="succeeded"):
    return {"id": 100 + i, "buildNumber": "20261125.%d" % i, "status": status, "result": result,
            "queueTime": "2026-11-25T08:%02d:00Z" % i, "finishTime": "2026-11-25T08:%02d:50Z" % i,
            "sourceBranch": "refs/heads/main", "definition": {"id": i, "name": name, "path": "\\"},
            "requestedFor": {"displayName": "Mia Krystof", "uniqueName": "mia@example.com"},
            "_links": {"web": {"href": "https://dev.azure.com/org/Fiber/_build/results?buildId=%d" % (100 + i)}}}


CACHE_ADO = {"id": "ado", "provider": "azure-devops", "server_url": "https://dev.azure.com/org", "fetched_at": 1795000000,
             "data": {"pipelines": [{"name": "CI", "state": "failed", "last_result": "failed", "build_number": "7",
                                     "branch": "main", "requested_by": "Mia", "queued_at": "", "finished_at": "",
                                     "url": "https://dev.azure.com/org/Fiber/_build/results?buildId=7"}]}}
CACHE_JIRA = {"id": "jira", "provider": "jira", "server_url": "https://jira.example", "fetched_at": 1795000001,
              "data": {"jira": {"jql": "project = TL", "total": 1, "complete": True,
                                "counts": {"new": 1, "indeterminate": 0, "done": 0, "undefined": 0},
                                "issues": [{"key": "TL-1", "summary": "s", "status": "To Do", "category": "new",
                                            "assignee": None, "priority": "High", "url": "https://jira.example/browse/TL-1"}]}}}
DAMAGED = json.loads(json.dumps(CACHE_ADO))
DAMAGED["data"]["pipelines"].append(None)

# mode: odd = a fetch (2: Jira, else Azure DevOps; for Jira 4: Data Center already known; for
# Azure DevOps 4: pipelines CI and Nightly, 8: branch main, 16: CI listed twice).
BOARD_SEEDS = {
    "gen-cache-both": (0, json.dumps({"version": 1, "sources": [CACHE_ADO, CACHE_JIRA]}).encode()),
    "gen-cache-damaged-entry": (0, json.dumps({"version": 1, "sources": [DAMAGED, CACHE_JIRA]}).encode()),
    "gen-ado-paged": (1, [board_answer({"count": 2, "value": [build(2, "CI", "inProgress", None), build(1, "CI")]},
                                       [("x-ms-continuationtoken", "2")]),
                          board_answer({"count": 2, "value": [build(3, "Nightly", result="failed"), build(4, "Deploy")]})]),
    "gen-ado-named": (13, [board_answer({"count": 2, "value": [build(1, "Nightly"), build(2, "CI", result="canceled")]})]),
    "gen-ado-listed-twice": (17, []),
    "gen-jira-cloud": (3, [board_answer({"issues": [issue(i) for i in range(3)], "nextPageToken": "tok-3", "isLast": False}),
                           board_answer({"issues": [issue(3)], "isLast": True})]),
    "gen-jira-learns-dc": (3, [board_answer({"errorMessages": ["null for uri"]}, status=404),
                               board_answer({"startAt": 0, "maxResults": 100, "total": 2, "issues": [issue(0), issue(1)]})]),
    "gen-jira-dc": (7, [board_answer({"startAt": 0, "maxResults": 100, "total": 3, "issues": [issue(i) for i in range(3)]})]),
    "gen-jira-status-string": (3, [board_answer({"issues": [dict(issue(0), fields={"status": "Done"})], "isLast": True})]),
}


def write(corpus, name, data):
    path = os.path.join(HERE, "corpus", corpus)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, name), "wb") as f:
        f.write(data)


def main():
    for name, (kind, answers) in TRACKER_SEEDS.items():
        write("tracker_response", name, bytes([kind]) + b"".join(answers))
    for name, (mode, rest) in BOARD_SEEDS.items():
        write("board", name, bytes([mode]) + (rest if isinstance(rest, bytes) else b"".join(rest)))


if __name__ == "__main__":
    main()
