import { jurisdictionOf } from '../../../shared/places/domain/jurisdiction';

/** Towns on both sides of each border and across each sea, with the nation whose holidays they keep. */
const TOWNS: readonly [name: string, latitude: number, longitude: number, where: string][] = [
  ['London', 51.5074, -0.1278, 'gb England'],
  ['Manchester', 53.4808, -2.2426, 'gb England'],
  ['Carlisle', 54.8925, -2.9329, 'gb England'],
  ['Berwick-upon-Tweed', 55.771, -2.0054, 'gb England'],
  ['Chester', 53.1934, -2.8931, 'gb England'],
  ['West Kirby', 53.3728, -3.1841, 'gb England'],
  ['Weston-super-Mare', 51.3462, -2.9774, 'gb England'],
  ['Clevedon', 51.4393, -2.8541, 'gb England'],
  ['Penzance', 50.1186, -5.5372, 'gb England'],
  ['Edinburgh', 55.9533, -3.1883, 'gb Scotland'],
  ['Gretna', 55.0, -3.065, 'gb Scotland'],
  ['Eyemouth', 55.8699, -2.0902, 'gb Scotland'],
  ['Stranraer', 54.9032, -5.0247, 'gb Scotland'],
  ['Campbeltown', 55.4254, -5.6067, 'gb Scotland'],
  ['Lerwick', 60.1551, -1.1451, 'gb Scotland'],
  ['Cardiff', 51.4816, -3.1791, 'gb Wales'],
  ['Newport', 51.5842, -2.9977, 'gb Wales'],
  ['Wrexham', 53.0462, -2.9931, 'gb Wales'],
  ['Holyhead', 53.3094, -4.6331, 'gb Wales'],
  ['St Davids', 51.8812, -5.2656, 'gb Wales'],
  ['Belfast', 54.5973, -5.9301, 'gb Northern Ireland'],
  ['Newry', 54.1751, -6.3402, 'gb Northern Ireland'],
  ['Derry', 54.9966, -7.3086, 'gb Northern Ireland'],
  ['Enniskillen', 54.3438, -7.6315, 'gb Northern Ireland'],
  ['Portavogie', 54.4588, -5.4402, 'gb Northern Ireland'],
  ['Dublin', 53.3498, -6.2603, 'ie '],
  ['Dundalk', 54.0, -6.4167, 'ie '],
  ['Letterkenny', 54.9558, -7.7342, 'ie '],
  ['Cork', 51.8985, -8.4756, 'ie '],
  ['Rosslare', 52.2522, -6.3397, 'ie '],
  ['Douglas', 54.1523, -4.4861, 'im '],
  ['St Helier', 49.1805, -2.1032, 'je '],
  ['St Peter Port', 49.4542, -2.5361, 'gg '],
];

describe('the jurisdiction of a place: whose clock and public holidays its opening hours keep', () => {
  it.each(TOWNS)('%s is in %s', (_name, latitude, longitude, where) => {
    const jurisdiction = jurisdictionOf({ latitude, longitude });
    expect(`${jurisdiction.countryCode} ${jurisdiction.state}`).toBe(where);
    expect(jurisdiction.timeZone).toBe(jurisdiction.countryCode === 'ie' ? 'Europe/Dublin' : 'Europe/London');
  });
});
