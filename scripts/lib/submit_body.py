# A complete one-request submission (`"submit": true`) for the questionnaire JSON named on
# the command line (as `GET /api/v1/questionnaires/{id}` serves it), printed to stdout:
# every required profile field and every question answered. Used by the load scripts.
import json, sys

q = json.load(open(sys.argv[1]))
values = {"text": "Load Test KK", "number": 30, "date": "2027-04-01"}
profile = {}
for field in q["profile"]:
    if not field.get("required"):
        continue
    kind = field["kind"]
    if kind == "select":
        profile[field["id"]] = field["options"][0]["id"]
    elif kind == "multiselect":
        profile[field["id"]] = [field["options"][0]["id"]]
    else:
        profile[field["id"]] = values[kind]
answers = {
    question["id"]: question["options"][i % len(question["options"])]["id"]
    for i, question in enumerate(q["questions"])
}
json.dump(
    {"questionnaire": q["id"], "submit": True, "profile": profile, "answers": answers},
    sys.stdout,
)
