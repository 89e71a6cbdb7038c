/** The client's version; the same as the repository's (a unit test holds the two package.json files to it). */
export const CLIENT_VERSION = '0.1.0';
