// Data the page needs that is not text: the corridors with their time
// zones (names come from the catalogue, corridor.<id>), colours, and the
// vehicle messages with a known explanation (explain.<key>).

// CORRIDORS are the six sister-city corridors of the bundled dataset, with
// the IANA time zone of their US side (the MX side keeps the same clock
// except where noted by its own zone).
export const CORRIDORS = [
  { id: 'sandiego-tijuana', lat: 32.54, lon: -117.03, tz: 'America/Los_Angeles' },
  { id: 'calexico-mexicali', lat: 32.665, lon: -115.49, tz: 'America/Tijuana' },
  { id: 'nogales-nogales', lat: 31.333, lon: -110.94, tz: 'America/Phoenix' },
  { id: 'elpaso-juarez', lat: 31.75, lon: -106.48, tz: 'America/Ciudad_Juarez' },
  { id: 'laredo-nuevolaredo', lat: 27.5, lon: -99.507, tz: 'America/Chicago' },
  { id: 'mcallen-reynosa', lat: 26.09, lon: -98.27, tz: 'America/Matamoros' },
];

export const STATE_COLORS = {
  idle: '#c9d1d9', flying: '#3ccf7a', mission: '#3fa7ff', returning: '#ffb020',
  lost: '#6e7681', breached: '#ff4d4f', failsafe: '#d55fff',
};

export const JURISDICTION_COLORS = { US: '#4f8ef7', MX: '#2fbf71', JOINT: '#b07cf7' };
export const EXCLUSION_COLOR = '#ff5a5a';

// Vehicle texts (ArduPilot speaks English) with a translated explanation.
const EXPLAIN = [
  [/Need Position Estimate/i, 'explain.need_position'],
  [/GPS.*(fix|3D)|Bad GPS/i, 'explain.gps'],
  [/Battery|low voltage/i, 'explain.battery'],
  [/GCS Failsafe/i, 'explain.gcs_failsafe'],
  [/fence/i, 'explain.fence'],
  [/Throttle armed|Arm: Throttle/i, 'explain.throttle'],
  [/Compass|Mag/i, 'explain.compass'],
  [/EKF|AHRS/i, 'explain.ekf'],
];

export function explain(text) {
  for (const [re, key] of EXPLAIN) if (re.test(text)) return key;
  return '';
}
