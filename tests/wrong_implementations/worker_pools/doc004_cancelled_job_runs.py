"""Document 004's worker: sets RUNNING on whatever it takes, so a job cancelled while pending runs anyway."""

EXPECT = {
    "check": "check_run_job",
    "property": "run_job changes a status only along pending → running → done | failed | cancelled",
    "observed": "cancelled -> running is not allowed",
}


async def run_job(job, handle):
    job.set_status(JobStatus.RUNNING)
    try:
        job.result = await handle(job.item)
    except Exception as error:
        job.error = error
        job.set_status(JobStatus.FAILED)
    except asyncio.CancelledError:
        job.set_status(JobStatus.CANCELLED)
        raise
    else:
        job.set_status(JobStatus.DONE)
