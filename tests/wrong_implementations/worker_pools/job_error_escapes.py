"""No except around the call: a failing job's error escapes and it stays 'running' forever."""

EXPECT = {
    "check": "check_run_job",
    "property": "run_job records a job's failure instead of raising it",
    "observed": "run_job let ItemFailed: item 'd' failed escape for job 4",
}


async def run_job(job, handle):
    if job.status is not JobStatus.PENDING:
        return
    job.set_status(JobStatus.RUNNING)
    job.result = await handle(job.item)
    job.set_status(JobStatus.DONE)
