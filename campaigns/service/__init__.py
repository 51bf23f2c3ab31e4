"""One campaign service: how a campaign is opened or resumed, checked before its first call,
run, stopped and finished, whichever door it came in by (`dialer run`, the web page, a schedule,
a worker). The doors keep only presentation: what they print or show, and how they host a run
(the terminal's signals, the server's threads, Celery's tasks).

- open: the campaign is created with every row of its list, or the stored one is resumed; a
  finished one is said so, with an unused id to call the list again under.
- preflight: the agent exists and is active; the credit balance.
- run embedded: the engine driven to the end in this process (`campaigns.dialing.runner`), its end
  recorded in the store.
- submit and follow: the campaign handed to the cluster (`Submission`, passed in: Celery lives
  in `workers`), and followed through the store until it ends.
- stop: no new calls, live calls followed to their end; a run of this process is told by its
  `StopSignal`, any other one (the cluster's) by the state `stopping` in the store.
- finish: the outcome report written from the store.

Its store, limiter and client come from `campaigns.backends`; a run's options, from flags, file
keys or form fields, from `campaigns.dial_options`. The doors that are presentation only:
`dialer/cli/run.py` (`dialer run`, `dialer run-scheduled`, the beat's starts), `dialer/web/runs.py`
(the page's threads and notices), `workers/tasks.py` (thin Celery tasks) and
`workers/submission.py` (the Celery side of `Submission`).
"""

from campaigns.service.campaign_service import (
    LEFT_AT_ONCE,
    CampaignService,
    Ended,
    NotRunningHere,
    Preflight,
)
from campaigns.service.cluster import NO_WORKERS, Submission
from campaigns.service.opening import CampaignRequest, Opened, open_request, unused_campaign_id
from campaigns.service.outages import through_outages
from campaigns.service.reports import write_campaign_report

__all__ = [
    "LEFT_AT_ONCE",
    "NO_WORKERS",
    "CampaignRequest",
    "CampaignService",
    "Ended",
    "NotRunningHere",
    "Opened",
    "Preflight",
    "Submission",
    "open_request",
    "through_outages",
    "unused_campaign_id",
    "write_campaign_report",
]
