"""A small OpenAPI description and helpers to write Arazzo documents against it in a temp dir."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

OPENAPI = dedent(
    """
    openapi: 3.1.0
    info: {title: Jobs, version: "1"}
    servers:
      - url: https://{host}/api
        variables:
          host: {default: jobs.example.com}
    security:
      - bearer: []
    components:
      securitySchemes:
        bearer: {type: http, scheme: bearer}
        basic: {type: http, scheme: basic}
        key: {type: apiKey, in: header, name: X-Api-Key}
        qkey: {type: apiKey, in: query, name: api_key}
        ckey: {type: apiKey, in: cookie, name: session_key}
        oauth:
          type: oauth2
          flows:
            clientCredentials:
              tokenUrl: /oauth/token
              scopes: {jobs.read: read jobs}
      parameters:
        RunId:
          name: run_id
          in: query
          required: true
          schema: {type: integer}
    paths:
      /jobs/run:
        post:
          operationId: runJob
          requestBody:
            content:
              application/json:
                schema: {type: object}
          responses: {"200": {description: ok}}
      /jobs/runs/get:
        get:
          operationId: getRun
          parameters:
            - $ref: '#/components/parameters/RunId'
          responses: {"200": {description: ok}}
      /jobs/runs/output:
        get:
          operationId: getOutput
          parameters:
            - $ref: '#/components/parameters/RunId'
          responses: {"200": {description: ok}}
      /items/{itemId}:
        parameters:
          - {name: itemId, in: path, required: true, schema: {type: string}}
        get:
          operationId: getItem
          parameters:
            - {name: tags, in: query, schema: {type: array}, style: form, explode: false}
            - {name: ids, in: query, schema: {type: array}}
            - {name: filter, in: query, schema: {type: object}, style: deepObject, explode: true}
            - {name: X-Trace, in: header, schema: {type: string}}
          responses: {"200": {description: ok}}
      /form:
        post:
          operationId: postForm
          requestBody:
            content:
              application/x-www-form-urlencoded:
                schema: {type: object}
          responses: {"200": {description: ok}}
      /upload:
        post:
          operationId: upload
          requestBody:
            content:
              multipart/form-data:
                schema: {type: object}
          responses: {"200": {description: ok}}
      /xml:
        post:
          operationId: postXml
          requestBody:
            content:
              application/xml:
                schema: {type: string}
          responses: {"200": {description: ok}}
      /text:
        post:
          operationId: postText
          requestBody:
            content:
              text/plain:
                schema: {type: string}
          responses: {"200": {description: ok}}
      /secure/basic:
        get:
          operationId: basicOp
          security: [{basic: []}]
          responses: {"200": {description: ok}}
      /secure/key:
        get:
          operationId: keyOp
          security: [{key: []}]
          responses: {"200": {description: ok}}
      /secure/qkey:
        get:
          operationId: qkeyOp
          security: [{qkey: []}]
          responses: {"200": {description: ok}}
      /secure/ckey:
        get:
          operationId: ckeyOp
          security: [{ckey: []}]
          responses: {"200": {description: ok}}
      /secure/oauth:
        get:
          operationId: oauthOp
          security: [{oauth: [jobs.read]}]
          responses: {"200": {description: ok}}
      /public:
        get:
          operationId: publicOp
          security: []
          responses: {"200": {description: ok}}
    """
)

HEADER = dedent(
    """
    arazzo: 1.0.1
    info: {title: test, version: "1"}
    sourceDescriptions:
      - name: jobs
        url: ./jobs.openapi.yaml
        type: openapi
    """
)


def write(tmp: Path, body: str, *, header: str = HEADER, name: str = "flow.arazzo.yaml") -> Path:
    """Write the OpenAPI description and an Arazzo document (header + ``body``) into ``tmp``."""
    (tmp / "jobs.openapi.yaml").write_text(OPENAPI)
    path = tmp / name
    path.write_text(header + dedent(body))
    return path
