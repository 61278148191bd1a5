"""Array kernels of the 2-D convolutions: im2col/col2im and the three GEMM products (ops live in conv.py).

im2col builds ``cols`` (groups, c/g * kh * kw, positions) from strided window views of the padded input, in one
of two orders of the positions, chosen per geometry by ``ConvGeom.batch_minor``:

- batch-major (n, oh, ow): the forward runs one GEMM per sample straight into (n, o, oh*ow); used when each
  sample's output is large or the kernel small;
- batch-minor (oh, ow, n): the forward is one big GEMM and one transpose to (n, o, oh, ow). Its im2col copies
  and col2im adds run over rows of ow*n contiguous elements rather than ow: NumPy's ufuncs on strided views
  cost about 0.2 µs per row, which made a batch-major col2im (rows of ow) the slowest part of a small
  convolution's backward.

The input gradient always runs batch-minor (W^T @ g and col2im), or, for stride 1 when cheaper, as the
convolution of g with the flipped, transposed weight. The weight gradient contracts g with ``cols`` (kept from
the forward): one GEMM, or, when its output is small, per sample or in pieces (see ``_weight_grad_plan``).
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided


class ConvGeom:
    """Shapes and hyper-parameters of one 2-D convolution x (n, c, h, w) * weight (o, c/groups, kh, kw)."""

    __slots__ = ("n", "c", "h", "w", "o", "kh", "kw", "groups", "sh", "sw", "dh", "dw", "pt", "pb", "pl", "pr",
                 "oh", "ow")

    def __init__(self, x_shape, w_shape, stride, dilation, pads, groups):
        self.n, self.c, self.h, self.w = x_shape
        self.o, _, self.kh, self.kw = w_shape
        self.sh, self.sw = stride
        self.dh, self.dw = dilation
        (self.pt, self.pb), (self.pl, self.pr) = pads
        self.groups = groups
        self.oh = (self.h + self.pt + self.pb - self.dh * (self.kh - 1) - 1) // self.sh + 1
        self.ow = (self.w + self.pl + self.pr - self.dw * (self.kw - 1) - 1) // self.sw + 1

    @property
    def padded(self):
        return self.pt or self.pb or self.pl or self.pr

    @property
    def batch_minor(self):
        """The layout of the forward's cols: batch-minor unless one GEMM per sample pays (see the module doc)."""
        return self.oh * self.ow < 128 and (self.c // self.groups) * self.kh * self.kw > 64

    def __repr__(self):
        return (f"ConvGeom(x={[self.n, self.c, self.h, self.w]}, kernel={[self.kh, self.kw]}, "
                f"stride={[self.sh, self.sw]}, dilation={[self.dh, self.dw]}, "
                f"padding={[self.pt, self.pb, self.pl, self.pr]}, groups={self.groups})")


# ---- im2col / col2im ----------------------------------------------------------------------------------------
def _spans(gm):
    """Extents (rows, columns) of the window starts in the padded input."""
    return (gm.oh - 1) * gm.sh + 1, (gm.ow - 1) * gm.sw + 1


def _im2col(x, gm, batch_minor=None):
    """x (n, c, h, w) -> cols (groups, c/g * kh * kw, positions), C-contiguous; positions (n, oh, ow), or
    (oh, ow, n) when batch_minor (default: the geometry's layout)."""
    batch_minor = gm.batch_minor if batch_minor is None else batch_minor
    n, c, hs, ws = gm.n, gm.c, *_spans(gm)
    kk = (c // gm.groups) * gm.kh * gm.kw
    if batch_minor:
        xp = np.zeros((c, gm.h + gm.pt + gm.pb, gm.w + gm.pl + gm.pr, n), dtype=x.dtype) if gm.padded else \
            np.empty((c, gm.h, gm.w, n), dtype=x.dtype)
        xp[:, gm.pt:gm.pt + gm.h, gm.pl:gm.pl + gm.w] = x.transpose(1, 2, 3, 0)
        cols = np.empty((c, gm.kh, gm.kw, gm.oh, gm.ow, n), dtype=x.dtype)
        for i in range(gm.kh):  # one copy per kernel offset, over rows of ow*n (stride 1)
            r = i * gm.dh
            for j in range(gm.kw):
                q = j * gm.dw
                cols[:, i, j] = xp[:, r:r + hs:gm.sh, q:q + ws:gm.sw]
        return cols.reshape(gm.groups, kk, -1)
    if gm.padded:
        xp = np.zeros((c, n, gm.h + gm.pt + gm.pb, gm.w + gm.pl + gm.pr), dtype=x.dtype)
        xp[:, :, gm.pt:gm.pt + gm.h, gm.pl:gm.pl + gm.w] = x.transpose(1, 0, 2, 3)
    else:
        xp = x.transpose(1, 0, 2, 3)
    sc, sn, sy, sx = xp.strides
    win = as_strided(xp, (c, gm.kh, gm.kw, n, gm.oh, gm.ow), (sc, sy * gm.dh, sx * gm.dw, sn, sy * gm.sh, sx * gm.sw),
                     writeable=False)
    cols = np.ascontiguousarray(win)  # (c, kh, kw, n, oh, ow)
    return cols.reshape(gm.groups, kk, -1)


def _col2im(dcols, gm):
    """The adjoint of the batch-minor _im2col: dcols (groups, c/g*kh*kw, oh*ow*n) -> dx (n, c, h, w), summing
    overlapping windows.

    Separable, so that every add runs over rows of ow*n contiguous elements: first along rows, all column
    offsets at once, into (c, kw, hp, ow, n) (kh adds), then along columns (kw adds) into the padded gradient
    stored split by column phase, (c, hp, sw, ceil(wp/sw), n) with column x at [x % sw, x // sw], where the
    columns q, q+sw, q+2sw, ... of one offset are adjacent. Along a dimension where windows do not overlap, each
    element has at most one source and copies (cheaper than adds) replace the adds."""
    n, c, oh, ow, sw = gm.n, gm.c, gm.oh, gm.ow, gm.sw
    hp, wp = gm.h + gm.pt + gm.pb, gm.w + gm.pl + gm.pr
    hs = (oh - 1) * gm.sh + 1
    dc = dcols.reshape(c, gm.kh, gm.kw, oh, ow, n)
    rows = np.zeros((c, gm.kw, hp, ow, n), dtype=dcols.dtype)
    overlap = gm.sh < gm.dh * (gm.kh - 1) + 1
    for i in range(gm.kh):
        _accumulate(rows[:, :, i * gm.dh:i * gm.dh + hs:gm.sh], dc[:, i], overlap)
    dxp = np.zeros((c, hp, sw, -(-wp // sw), n), dtype=dcols.dtype)
    overlap = sw < gm.dw * (gm.kw - 1) + 1
    for j in range(gm.kw):
        q = j * gm.dw
        _accumulate(dxp[:, :, q % sw, q // sw:q // sw + ow], rows[:, j], overlap)
    dx = np.empty((n, c, gm.h, gm.w), dtype=dcols.dtype)
    for phase in range(sw):  # the columns x of dx with (x + pl) % sw == phase
        x0 = (phase - gm.pl) % sw
        if x0 < gm.w:
            count = (gm.w - 1 - x0) // sw + 1
            start = (x0 + gm.pl) // sw
            part = dxp[:, gm.pt:gm.pt + gm.h, phase, start:start + count]
            np.copyto(dx[:, :, :, x0::sw], part.transpose(3, 0, 1, 2))
    return dx


def _accumulate(view, src, add):
    if add:
        np.add(view, src, out=view)
    else:
        view[...] = src


def _grad_rows(g, gm, batch_minor):
    """g (n, o, oh, ow) -> (groups, o/g, positions) C-contiguous in cols' position order (a GEMM operand)."""
    gt = g.transpose(1, 2, 3, 0) if batch_minor else g.transpose(1, 0, 2, 3)
    return np.ascontiguousarray(gt).reshape(gm.groups, gm.o // gm.groups, -1)


def _weight_by_group(w, gm):
    return w.reshape(gm.groups, gm.o // gm.groups, -1)


# ---- the three products ---------------------------------------------------------------------------------------
def _conv_forward(x, w, b, gm, cols=None):
    """y = conv(x, w) + b as (n, o, oh, ow), and the cols it used."""
    if cols is None:
        cols = _im2col(x, gm)
    g, k, l = gm.groups, cols.shape[1], gm.oh * gm.ow
    wg = _weight_by_group(w, gm)
    if not gm.batch_minor:
        # one GEMM per sample straight into (n, o, l): reads cols through a strided view, no output transpose
        y = np.matmul(wg, cols.reshape(g, k, gm.n, l).transpose(2, 0, 1, 3))  # (n, groups, o/g, l)
        out = y.reshape(gm.n, gm.o, gm.oh, gm.ow)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        return out, cols
    y = np.matmul(wg, cols)  # (groups, o/g, l*n): one big GEMM, then the transpose to (n, o, oh, ow)
    out = np.empty((gm.n, gm.o, gm.oh, gm.ow), dtype=y.dtype)
    yt = y.reshape(gm.o, gm.oh, gm.ow, gm.n).transpose(3, 0, 1, 2)
    if b is None:
        np.copyto(out, yt)
    else:
        np.add(yt, b.reshape(1, -1, 1, 1), out=out)
    return out, cols


def _flipped_geom(gm):
    """For a stride-1 convolution, the geometry of the 'full' correlation of g with the flipped, transposed weight
    that equals its input gradient; None when that form does not apply or is not cheaper than col2im."""
    if gm.sh != 1 or gm.sw != 1 or gm.o > 1.5 * gm.c:
        return None
    # before: d(k-1) - p_before; after: whatever makes the output h (w) long (also with output_padding)
    ph = (gm.dh * (gm.kh - 1) - gm.pt, gm.h - gm.oh + gm.pt)
    pw = (gm.dw * (gm.kw - 1) - gm.pl, gm.w - gm.ow + gm.pl)
    if min(ph + pw) < 0:
        return None
    return ConvGeom((gm.n, gm.o, gm.oh, gm.ow), (gm.c, gm.o // gm.groups, gm.kh, gm.kw), (1, 1), (gm.dh, gm.dw),
                    (ph, pw), gm.groups)


def _conv_input_grad(g, w, b, gm, g_rows=None):
    """dx = conv^T(g, w) (+ b per channel of dx). ``g_rows``: g already as batch-minor _grad_rows, if at hand."""
    flipped = _flipped_geom(gm)
    if flipped is not None:
        # stride 1: dx is a convolution of g (im2col of g and one GEMM beat GEMM + col2im when o <~ c)
        og, cg = gm.o // gm.groups, gm.c // gm.groups
        wt = w.reshape(gm.groups, og, cg, gm.kh, gm.kw).transpose(0, 2, 1, 3, 4)[..., ::-1, ::-1]
        wt = np.ascontiguousarray(wt).reshape(gm.c, og, gm.kh, gm.kw)
        return _conv_forward(g, wt, b, flipped)[0]
    rows = _grad_rows(g, gm, batch_minor=True) if g_rows is None else g_rows
    dx = _col2im(np.matmul(_weight_by_group(w, gm).transpose(0, 2, 1), rows), gm)
    if b is not None:
        dx += b.reshape(1, -1, 1, 1)
    return dx


_PIECE = 1024  # contraction length per GEMM piece


def _weight_grad_plan(gm, have_rows=False):
    """How _conv_weight_grad contracts g with cols: 'per_sample', 'pieces' or 'one_gemm'.

    With a small output (o/g x c/g*kh*kw) and a long contraction over n*oh*ow positions, OpenBLAS runs several
    times slower than on contractions of ~1000 (measured: (25 x 50176) @ (50176 x 6) 3x slower than its 49
    pieces); from outputs of ~1500 elements on, one GEMM is as fast. So small outputs contract per sample when
    each sample has >= 512 positions and g is at hand as it is (batch-major cols: no transpose of g), else in
    pieces of _PIECE positions (any split of the sum will do), summed."""
    k = (gm.c // gm.groups) * gm.kh * gm.kw
    if (gm.o // gm.groups) * k <= 1024:
        if not gm.batch_minor and not have_rows and gm.oh * gm.ow >= 512:
            return "per_sample"
        if gm.n * gm.oh * gm.ow >= 4 * _PIECE:
            return "pieces"
    return "one_gemm"


def _contract_in_pieces(cols, rows):
    """cols (groups, k, P) @ rows (groups, o, P)^T -> (groups, k, o), as one batched matmul over pieces of P."""
    groups, k, p = cols.shape
    o = rows.shape[1]
    pieces = p // _PIECE
    m = pieces * _PIECE
    a = cols[:, :, :m].reshape(groups, k, pieces, _PIECE).transpose(2, 0, 1, 3)
    b = rows[:, :, :m].reshape(groups, o, pieces, _PIECE).transpose(2, 0, 3, 1)
    out = np.matmul(a, b).sum(axis=0)
    if m < p:
        out += np.matmul(cols[:, :, m:], rows[:, :, m:].transpose(0, 2, 1))
    return out


def _conv_weight_grad(x, g, gm, cols=None, g_rows=None):
    """dw (o, c/g, kh, kw) = g against the windows of x. ``cols``: the forward's im2col (in gm's layout);
    ``g_rows``: g as _grad_rows in the same layout, if at hand."""
    if cols is None:
        cols = _im2col(x, gm)
    groups, k = gm.groups, cols.shape[1]
    og, l = gm.o // groups, gm.oh * gm.ow
    plan = _weight_grad_plan(gm, g_rows is not None)
    if plan == "per_sample":  # one GEMM per sample on g as it is, (o/g, l) @ (l, k), summed over samples
        per = np.matmul(g.reshape(gm.n, groups, og, l), cols.reshape(groups, k, gm.n, l).transpose(2, 0, 3, 1))
        gw = per.sum(axis=0)
    else:
        rows = _grad_rows(g, gm, gm.batch_minor) if g_rows is None else g_rows
        if plan == "pieces":
            gw = _contract_in_pieces(cols, rows).transpose(0, 2, 1)
        else:  # (k, P) @ (P, o) measured faster than (o, P) @ (P, k) in OpenBLAS for these shapes
            gw = np.matmul(cols, rows.transpose(0, 2, 1)).transpose(0, 2, 1)
    return np.ascontiguousarray(gw).reshape(gm.o, gm.c // groups, gm.kh, gm.kw)
