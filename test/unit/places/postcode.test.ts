import { splitPostcode } from '../../../shared/places/application/geocoder';

describe('finding a UK postcode in an address', () => {
  it.each([
    ['M3 4FP', 'M3 4FP', ''],
    ['m34fp', 'M3 4FP', ''],
    ['SW7 5BD', 'SW7 5BD', ''],
    ['yo26 4xj', 'YO26 4XJ', ''],
    ['Liverpool Road, Manchester M3 4FP', 'M3 4FP', 'Liverpool Road, Manchester'],
    ['Chester Zoo, CH2 1LH, Chester', 'CH2 1LH', 'Chester Zoo, Chester'],
    ['EC1A 1BB', 'EC1A 1BB', ''],
  ])('%s → %s', (address, postcode, rest) => {
    expect(splitPostcode(address)).toEqual({ postcode, rest });
  });

  it.each(['Chester Zoo', 'Manchester', 'Route 66', 'QQ1 1AA', 'M3 4CI'])('finds none in %s', (address) => {
    expect(splitPostcode(address)).toBeUndefined();
  });
});
