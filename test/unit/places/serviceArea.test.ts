import ukPlaces from '../../../local/data/uk-places.json';
import { GREAT_BRITAIN_AND_IRELAND, isInServiceArea, type ServiceArea } from '../../../shared/places/domain/serviceArea';

const at = (latitude: number, longitude: number) => ({ latitude, longitude });

describe('the service area: Great Britain and Ireland', () => {
  it('holds every place of the handbook data', () => {
    for (const place of ukPlaces.places)
      expect({ name: place.name, inside: isInServiceArea(GREAT_BRITAIN_AND_IRELAND, place.geolocation) }).toEqual({
        name: place.name,
        inside: true,
      });
  });

  it.each([
    ['Muckle Flugga, Shetland', 60.86, -0.89],
    ['Out Skerries, Shetland', 60.42, -0.75],
    ['Foula, Shetland', 60.13, -2.07],
    ['North Ronaldsay, Orkney', 59.37, -2.43],
    ['North Rona', 59.12, -5.82],
    ['St Kilda', 57.81, -8.57],
    ['Barra Head', 56.78, -7.65],
    ['Tory Island', 55.27, -8.23],
    ['Mizen Head', 51.45, -9.82],
    ['Skellig Michael', 51.77, -10.54],
    ['Achill Island', 53.96, -10.1],
    ['Dublin', 53.35, -6.26],
    ['Galway', 53.27, -9.05],
    ['Belfast', 54.6, -5.93],
    ['Douglas, Isle of Man', 54.15, -4.48],
    ["St Mary's, Isles of Scilly", 49.91, -6.31],
    ['Lizard Point', 49.96, -5.2],
    ["St Catherine's Point, Isle of Wight", 50.58, -1.3],
    ['Dover', 51.13, 1.31],
    ['North Foreland', 51.38, 1.45],
    ['Dungeness', 50.91, 0.98],
    ['Lowestoft Ness', 52.48, 1.76],
    ['Spurn Head', 53.58, 0.11],
    ['Peterhead', 57.5, -1.78],
    ['St Helier, Jersey', 49.19, -2.11],
    ['Gorey, Jersey', 49.2, -2.02],
    ['St Peter Port, Guernsey', 49.46, -2.54],
    ['Alderney', 49.71, -2.2],
    ['Sark', 49.43, -2.36],
  ])('includes %s', (_name, latitude, longitude) => {
    expect(isInServiceArea(GREAT_BRITAIN_AND_IRELAND, at(latitude, longitude))).toBe(true);
  });

  it.each([
    ['Paris', 48.86, 2.35],
    ['Calais', 50.95, 1.85],
    ['Cap Gris-Nez', 50.87, 1.58],
    ['Boulogne-sur-Mer', 50.73, 1.6],
    ['Le Touquet', 50.52, 1.59],
    ['Dunkirk', 51.03, 2.37],
    ['De Panne', 51.1, 2.59],
    ['Ostend', 51.23, 2.92],
    ['Dieppe', 49.93, 1.08],
    ['Le Havre', 49.49, 0.1],
    ['Cherbourg', 49.64, -1.62],
    ['Cap de la Hague', 49.72, -1.94],
    ['Barfleur', 49.67, -1.26],
    ['Carteret', 49.37, -1.79],
    ['Saint-Malo', 48.65, -2.0],
    ['Roscoff', 48.73, -3.98],
    ['Brest', 48.39, -4.49],
    ['Ushant', 48.46, -5.09],
    ['Bergen', 60.39, 5.32],
    ['Utsira', 59.31, 4.88],
    ['Stavanger', 58.97, 5.73],
    ['Tórshavn, Faroe Islands', 62.01, -6.77],
    ['Rockall', 57.6, -13.69],
    ['Amsterdam', 52.37, 4.9],
    ['Hook of Holland', 51.98, 4.13],
    ['New York', 40.71, -74.01],
    ['Null Island', 0, 0],
  ])('excludes %s', (_name, latitude, longitude) => {
    expect(isInServiceArea(GREAT_BRITAIN_AND_IRELAND, at(latitude, longitude))).toBe(false);
  });

  it('is a value: another area can be used instead', () => {
    const square: ServiceArea = {
      name: 'a square',
      polygons: [
        [
          [0, 0],
          [1, 0],
          [1, 1],
          [0, 1],
        ],
      ],
    };
    expect(isInServiceArea(square, at(0.5, 0.5))).toBe(true);
    expect(isInServiceArea(square, at(53.48, -2.24))).toBe(false);
  });
});
