import "./realtime";
