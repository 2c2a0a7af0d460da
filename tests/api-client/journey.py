"""A broker's developer's journey through a Python client generated from the served
OpenAPI document (openapi-python-client): a company creates, saves, submits and reads its
assessment; a broker invites, lists, attaches and reads; refusals come back as the
document's error types. Run by scripts/api-client.sh, which generates the client first.

Usage: SHINDAN_BROKER_TOKEN=... python journey.py BASE_URL
"""

import os
import sys

from shindan_api_client import AuthenticatedClient, Client
from shindan_api_client.api.assessments import (
    create_assessment,
    get_assessment,
    patch_assessment,
    submit_assessment,
)
from shindan_api_client.api.broker import (
    broker_attach,
    broker_get_assessment,
    broker_invite,
    broker_list_assessments,
)
from shindan_api_client.api.questionnaires import get_questionnaire, list_questionnaires
from shindan_api_client.api.reports import get_report
from shindan_api_client.models import (
    AssessmentView,
    AttachRequest,
    CreateRequest,
    Created,
    Invitation,
    PatchRequest,
    PatchRequestAnswers,
    PatchRequestProfile,
    PortfolioDetailView,
    PortfolioItemView,
    PortfolioPageView,
    ReportView,
    SubmittedView,
)

base, broker_token = sys.argv[1], os.environ["SHINDAN_BROKER_TOKEN"]
anonymous = Client(base_url=base, raise_on_unexpected_status=True)


def check(condition, what):
    if not condition:
        raise SystemExit(f"api-client journey: FAIL: {what}")
    print(f"api-client journey: ok: {what}")


# The questionnaires.
listed = list_questionnaires.sync(client=anonymous)
check(any(q.id == "it-liability" for q in listed), "the questionnaires list it-liability")
q = get_questionnaire.sync_detailed("it-liability", client=anonymous)
check(q.status_code == 200, "the questionnaire reads")
questionnaire = q.parsed.to_dict()

# A company's assessment: created as a draft, saved, submitted, read.
created = create_assessment.sync(client=anonymous, body=CreateRequest(questionnaire="it-liability"))
check(isinstance(created, Created) and created.status == "draft", "a draft is created")
company = AuthenticatedClient(base_url=base, token=created.edit_token)
values = {"text": "株式会社クライアント生成", "number": 30, "date": "2027-04-01"}
profile = PatchRequestProfile()
for field in questionnaire["profile"]:
    kind = field["kind"]
    if kind == "select":
        profile[field["id"]] = field["options"][0]["id"]
    elif kind == "multiselect":
        profile[field["id"]] = [field["options"][0]["id"]]
    else:
        profile[field["id"]] = values[kind]
answers = PatchRequestAnswers()
for question in questionnaire["questions"]:
    answers[question["id"]] = question["options"][0]["id"]
saved = patch_assessment.sync(created.id, client=company, body=PatchRequest(profile=profile, answers=answers))
check(isinstance(saved, AssessmentView) and saved.progress.answered == saved.progress.total,
      "every answer is saved")
read = get_assessment.sync(created.id, client=company)
check(isinstance(read, AssessmentView) and read.profile["company_name"] == values["text"],
      "the draft reads back with its profile")
submitted = submit_assessment.sync(created.id, client=company)
check(isinstance(submitted, SubmittedView) and submitted.scores.overall is not None,
      "the assessment is submitted with scores")
report = get_report.sync(created.report_token, client=anonymous)
check(isinstance(report, ReportView) and len(report.scores.domains) == len(questionnaire["domains"]),
      "the report reads with a score per domain")

# A wrong edit token is refused with the document's error type.
stranger = AuthenticatedClient(base_url=base, token="x" * 43)
refused = get_assessment.sync_detailed(created.id, client=stranger)
check(refused.status_code == 401 and refused.parsed.error.code == "unauthorized",
      "a wrong edit token is 401 unauthorized")
unknown = create_assessment.sync_detailed(client=anonymous, body=CreateRequest(questionnaire="no-such"))
check(unknown.status_code == 404 and unknown.parsed.error.code == "unknown_questionnaire",
      "an unknown questionnaire is 404 unknown_questionnaire")

# A broker: invites, attaches the company's report, lists and reads.
broker = AuthenticatedClient(base_url=base, token=broker_token)
from shindan_api_client.models import InviteRequest  # noqa: E402

invited = broker_invite.sync(client=broker, body=InviteRequest(questionnaire="it-liability",
                                                              client_name="株式会社招待先"))
check(isinstance(invited, Invitation) and invited.status == "invited", "a client is invited")
attached = broker_attach.sync(client=broker, body=AttachRequest(report_token=created.report_token))
check(isinstance(attached, PortfolioItemView) and attached.membership == "attached",
      "the company's report is attached")
page = broker_list_assessments.sync(client=broker, limit=10)
check(isinstance(page, PortfolioPageView) and {i.id for i in page.items} >= {invited.id, created.id},
      "the portfolio lists both")
detail = broker_get_assessment.sync(created.id, client=broker)
check(isinstance(detail, PortfolioDetailView) and detail.scores.overall == submitted.scores.overall,
      "the portfolio item has the same scores")
