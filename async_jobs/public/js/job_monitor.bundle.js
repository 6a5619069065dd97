import "./job_monitor/monitor";
