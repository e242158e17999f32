package bot

// LaneOf exposes laneOf to the external tests.
var LaneOf = laneOf
