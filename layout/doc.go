// Package layout turns an IVS composition layout (the ivs-realtime API's
// layout.grid or layout.pip) and the stage's participants into tile
// rectangles on a canvas.
//
// The package is pure geometry: it performs no I/O, reads no clock, touches
// no media and imports nothing else of Tessera. Everything it returns is a
// deterministic function of its inputs, so the compositor can call Arrange
// whenever the roster or an attribute changes and rebuild its plan only when
// the slots differ.
//
// The contract, in the order the pieces are used:
//
//   - Config mirrors the API's LayoutConfiguration. Config.Validate reports
//     field-level errors in the API's terms (ValidationError); Config.WithDefaults
//     fills in IVS's defaults, as the API echoes them back.
//   - Participant is what the layout needs to know of a stage participant.
//     Order sorts participants by participantOrderAttribute and arrival.
//   - Arrange places the participants on a canvas and returns Slots in
//     drawing order: each slot names a participant, its tile rectangle, fill
//     mode, z-order and role (grid, featured, pip or placeholder).
//   - Fit maps a source video into a tile for a fill mode: the source crop and
//     the destination rectangle, both aligned for I420.
//
// Every rectangle Arrange and Fit produce has even coordinates and even
// sizes (except a crop that spans a source of odd size), so the chroma
// planes of an I420 canvas line up with the luma plane without rounding.
//
// Where IVS documents nothing, this package decides, and the decision is
// stated on the function that implements it (see Arrange, Order, Fit).
package layout
